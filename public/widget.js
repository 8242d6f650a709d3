/*
 * Web chat widget of the wallet-unbinding support bot.
 *
 * Embed with <script src="https://host/widget.js" defer></script> (add data-open="true" to open at
 * load). Plain ES2020, no build step. Every label comes from GET /api/ui, so this file holds no
 * user-facing text of its own except an English fallback for when that request fails. Message
 * text is only ever set through text nodes, never parsed as HTML.
 */
(() => {
  'use strict';

  if (window.WalletUnbindWidget) return; // included twice: the first copy keeps the page

  const script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  const scriptUrl = new URL(script ? script.src : 'widget.js', document.baseURI);
  // The server serves widget.js next to its API, so the script's folder is the API base.
  const BASE = new URL('.', scriptUrl).href.replace(/\/$/, '');
  const SOCKET_URL = `${BASE.replace(/^http/, 'ws')}/ws`;
  const STORAGE_KEY = `wub.conversation.${BASE}`;
  const OPEN_AT_LOAD = Boolean(script && script.dataset.open === 'true');

  const RECONNECT_MIN_MS = 500;
  const RECONNECT_MAX_MS = 10000;
  const IDLE_CLOSE_CODE = 4000; // the server closed a socket nobody used: reconnect when the user acts, not at once
  const SOCKET_REPLY_TIMEOUT_MS = 20000;
  const STARTUP_TIMEOUT_MS = 5000;
  const COMPACT_BELOW_PX = 520; // shorter than this (e.g. phone keyboard open): drop the sketch
  const AGENT_TYPING_SHOWN_MS = 6000; // an agent.typing frame shows the dots this long, unless a message comes first
  const USER_TYPING_EVERY_MS = 3000; // the user's typing goes to the agent at most this often
  const TAKEN_AFTER_MS = 5000; // a message to an agent gets no reply: after this long without an error, it was taken
  const HANDOFF_POLL_MS = 5000; // handed over but no socket (refused, or between reconnects): read on this often
  const SVG_NS = 'http://www.w3.org/2000/svg';

  // Used only when /api/ui cannot be reached, so the widget stays usable.
  const FALLBACK_TEXTS = {
    'ui.widget.lang': 'en',
    'ui.widget.title': 'Wallet unbinding assistant',
    'ui.widget.open': 'Open the wallet unbinding assistant',
    'ui.widget.close': 'Close the chat',
    'ui.widget.newConversation': 'New chat',
    'ui.widget.log': 'Conversation',
    'ui.widget.botSays': 'Assistant:',
    'ui.widget.userSays': 'You:',
    'ui.widget.inputLabel': 'Your question',
    'ui.widget.placeholder': 'Type your question',
    'ui.widget.send': 'Send',
    'ui.widget.quickReplies': 'Quick replies',
    'ui.widget.typing': 'The assistant is typing',
    'ui.widget.reconnecting': 'Connection lost, reconnecting…',
    'ui.widget.connectionLost': 'Cannot reach the server. Check your connection and try again.',
    'ui.widget.error': 'Something went wrong. Please try again later.',
    'ui.widget.error.origin_not_allowed': 'The assistant is not available on this page right now.',
    'ui.widget.noReply': 'No reply yet. Please send your message again.',
    'ui.widget.expired': 'Your earlier conversation has expired; a new one has started.',
    'ui.widget.progress': 'Step {step} of {total}',
    'ui.widget.tapHint': 'Tap the highlighted item: {target}',
    'ui.widget.sketchAlt': 'Step {step}: the highlighted item on the phone screen is "{target}"',
    'ui.widget.sketch.wechat': 'WeChat',
    'ui.widget.sketch.me': 'Me',
    'ui.widget.sketch.service': 'Services',
    'ui.widget.sketch.pay': 'Pay',
    'ui.widget.sketch.wallet': 'Wallet',
    'ui.widget.sketch.walletItem': 'Wallet',
    'ui.widget.sketch.unbind': 'Unbind',
    'ui.widget.sketch.confirm': 'OK',
    'ui.widget.rating.question': 'Was this helpful?',
    'ui.widget.rating.helpful': 'Yes',
    'ui.widget.rating.notHelpful': 'No',
    'ui.widget.rating.thanks': 'Thanks for your feedback!',
    'ui.widget.botName': 'Assistant',
    'ui.widget.agentName': 'Agent {name}',
    'ui.widget.agentSays': 'Agent {name}:',
    'ui.widget.agentTyping': 'Agent {name} is typing',
    'ui.widget.handoff.label': 'Human support',
    'ui.widget.handoff.waiting': 'Connecting you to a human agent',
    'ui.widget.handoff.position': '{position} ahead of you in the queue',
    'ui.widget.handoff.next': 'You are next; an agent will answer here',
    'ui.widget.handoff.nobody': 'No agent is online right now',
    'ui.widget.handoff.queued': 'Your question is in the queue ({position} ahead of you); an agent will answer here once online',
    'ui.widget.handoff.hours': 'Service hours {hours}',
    'ui.widget.handoff.cancel': 'Stop waiting, back to the assistant',
    'ui.widget.handoff.serving': 'Agent {name} is helping you',
    'ui.widget.handoff.joined': 'Agent {name} has joined',
    'ui.widget.handoff.ended': 'Agent {name} has left the chat; the assistant answers again',
  };

  const state = {
    texts: {},
    conversation: null, // { id, token }
    generation: 0, // bumped when a conversation is abandoned, so its late answers are dropped
    starting: null,
    renderedEntries: 0, // transcript entries on screen, to append only what a resync finds missing
    // Lines carry their place in the conversation (seq 1, 2, …). syncedSeq: every line up to it is on
    // screen; unsynced: bubbles shown live whose seq is not known yet (the user's, the bot's replies),
    // matched to their lines by the next resync so nothing shows twice.
    syncedSeq: 0,
    unsynced: [],
    quickReplies: [],
    progressKey: '',
    ratingOffer: null, // the rating row still waiting for a tap; older ones go when the next answer comes
    ratingCount: 0, // makes the ids of rating rows unique
    socket: null,
    socketReady: false,
    socketRejected: false, // hello refused: this conversation goes over REST only
    socketEverReady: false,
    reconnectAttempt: 0,
    reconnectTimer: 0,
    socketClosedIdle: false,
    awaitingSocketReply: false,
    socketReplyTimer: 0,
    // Messages sent over the socket whose turn has not answered yet, oldest first (see handleFrame).
    socketPending: [],
    openRequested: OPEN_AT_LOAD,
    originWarned: false,
    // The handover as the server last described it: { status, position, agentName, serviceHours, available } or null.
    handoff: null,
    servingAgent: null, // the agent whose "已接入" note is the latest on screen (null once they left)
    lastSender: '', // who wrote the last bubble ('bot', 'user', 'agent:<name>'), to group bubbles
    agentTypingTimer: 0,
    userTypingSentAt: 0,
    handoffPollTimer: 0,
  };
  const notices = new Map(); // kind → text; the newest one is shown
  const ui = {};

  // ---------------------------------------------------------------- helpers

  function t(key, vars) {
    const template = state.texts[key] ?? FALLBACK_TEXTS[key] ?? key;
    if (!vars) return template;
    return template.replace(/\{(\w+)\}/g, (match, name) => (name in vars ? String(vars[name]) : match));
  }

  /**
   * What to tell the user about a refused message, in their language: the server's `message` is for
   * developers, its `code` picks a text from ui.yml (ui.widget.error.<code>), else the generic one.
   */
  function errorText(code) {
    const key = `ui.widget.error.${code}`;
    return state.texts[key] ? t(key) : t('ui.widget.error');
  }

  function el(tag, attrs = {}, children = []) {
    const node = document.createElement(tag);
    setAttributes(node, attrs);
    node.append(...children);
    return node;
  }

  function svg(tag, attrs = {}, children = []) {
    const node = document.createElementNS(SVG_NS, tag);
    setAttributes(node, attrs);
    node.append(...children);
    return node;
  }

  function setAttributes(node, attrs) {
    for (const [name, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (name === 'text') node.textContent = String(value);
      else node.setAttribute(name, value === true ? '' : String(value));
    }
  }

  const asText = (value) => (typeof value === 'string' ? value : '');

  function normalizeQuickReplies(list) {
    if (!Array.isArray(list)) return [];
    return list
      .filter((reply) => reply && typeof reply.title === 'string' && typeof reply.payload === 'string' && reply.title)
      .map((reply) => ({ title: reply.title, payload: reply.payload }));
  }

  const quickRepliesOf = (message) => normalizeQuickReplies(message && (message.quickReplies ?? message.quick_replies));

  const coarsePointer = () => window.matchMedia && window.matchMedia('(pointer: coarse)').matches;

  const withTimeout = (promise, ms, fallback) =>
    Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve(fallback), ms))]);

  // ---------------------------------------------------------------- storage

  function readStoredConversation() {
    try {
      const value = JSON.parse(localStorage.getItem(STORAGE_KEY) || 'null');
      if (value && typeof value.id === 'string' && typeof value.token === 'string') return { id: value.id, token: value.token };
    } catch {
      // storage disabled or corrupt: behave as if nothing was stored
    }
    return null;
  }

  function storeConversation(conversation) {
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(conversation));
    } catch {
      // private mode: the conversation just won't survive a reload
    }
  }

  function forgetConversation() {
    try {
      localStorage.removeItem(STORAGE_KEY);
    } catch {
      // nothing stored
    }
  }

  // ---------------------------------------------------------------- HTTP

  class HttpError extends Error {
    constructor(method, path, status, code, serverMessage) {
      super(`${method} ${path} answered ${status}${code ? ` (${code})` : ''}`);
      this.name = 'HttpError';
      this.status = status;
      this.code = code;
      this.serverMessage = serverMessage;
    }
  }

  class NetworkError extends Error {
    constructor(method, path, cause) {
      super(`${method} ${path} failed: ${cause && cause.message}`);
      this.name = 'NetworkError';
    }
  }

  // 401/403/404 on a conversation: the stored id/token can no longer be used.
  const isConversationGone = (error) => error instanceof HttpError && [401, 403, 404].includes(error.status);

  async function request(method, path, { body, token } = {}) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    let response;
    try {
      response = await fetch(`${BASE}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch (error) {
      throw new NetworkError(method, path, error);
    }
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const error = data && typeof data.error === 'object' && data.error ? data.error : {};
      throw new HttpError(method, path, response.status, asText(error.code), asText(error.message));
    }
    return data || {};
  }

  async function loadTexts() {
    try {
      const data = await request('GET', '/api/ui');
      return data.texts && typeof data.texts === 'object' ? data.texts : null;
    } catch {
      return null;
    }
  }

  function loadStylesheet() {
    const href = new URL('widget.css', scriptUrl).href;
    const existing = [...document.querySelectorAll('link[rel~="stylesheet"]')].find((link) => link.href === href);
    if (existing) return Promise.resolve();
    return new Promise((resolve) => {
      const link = el('link', { rel: 'stylesheet', href });
      link.addEventListener('load', resolve);
      link.addEventListener('error', resolve);
      document.head.append(link);
    });
  }

  const conversationPath = (id, suffix = '') => `/api/conversations/${encodeURIComponent(id)}${suffix}`;

  // ---------------------------------------------------------------- conversation

  function ensureStarted() {
    if (state.conversation) return Promise.resolve();
    if (!state.starting) {
      const starting = startConversation().finally(() => {
        if (state.starting === starting) state.starting = null;
      });
      state.starting = starting;
    }
    return state.starting;
  }

  async function startConversation() {
    const generation = state.generation;
    showTyping(true);
    try {
      const stored = readStoredConversation();
      if (stored) {
        try {
          const data = await request('GET', conversationPath(stored.id), { token: stored.token });
          if (generation !== state.generation) return;
          state.conversation = stored;
          renderTranscript(data);
          connectSocket();
          return;
        } catch (error) {
          if (!isConversationGone(error)) throw error;
          forgetConversation();
        }
      }
      const data = await request('POST', '/api/conversations', { body: {} });
      if (generation !== state.generation) return;
      if (typeof data.id !== 'string' || typeof data.token !== 'string') {
        throw new HttpError('POST', '/api/conversations', 500, 'bad_response', '');
      }
      state.conversation = { id: data.id, token: data.token };
      storeConversation(state.conversation);
      clearNotice('connection');
      renderReplies(data.replies, data.progress ?? null);
      connectSocket();
    } catch (error) {
      if (generation !== state.generation) return;
      if (error instanceof NetworkError && (await originRefused())) {
        if (generation === state.generation) showOriginRefused();
      } else {
        showFailure(error);
      }
    } finally {
      if (generation === state.generation && !state.awaitingSocketReply) showTyping(false);
    }
  }

  /**
   * Whether a request that failed like a network error was this page being refused instead: the
   * browser withholds the bot's answers from pages of origins its ALLOWED_ORIGINS does not list
   * (CORS), and tells scripts no more than for a dropped connection. If the server still answers a
   * no-cors request, it is reachable, and "check your connection" would send the user on a
   * pointless hunt.
   */
  async function originRefused() {
    if (new URL(BASE).origin === window.location.origin || navigator.onLine === false) return false;
    try {
      await fetch(`${BASE}/healthz`, { mode: 'no-cors', cache: 'no-store' });
      return true;
    } catch {
      return false;
    }
  }

  function showOriginRefused() {
    setNotice('connection', t('ui.widget.error.origin_not_allowed'));
    if (state.originWarned) return;
    state.originWarned = true;
    // For the site's developer; the browser's own CORS error above names the request, not the setting.
    console.warn(
      `Wallet unbinding widget: ${BASE} does not let pages of ${window.location.origin} use it (CORS). ` +
        `If this page should embed the widget, add ${window.location.origin} to the bot's ALLOWED_ORIGINS.`,
    );
  }

  /** Drops the current conversation (on the "new conversation" button, or when the server no longer knows it). */
  function startOver(noticeKey) {
    state.generation++;
    closeSocket();
    state.conversation = null;
    state.starting = null;
    state.socketRejected = false;
    state.socketEverReady = false;
    state.reconnectAttempt = 0;
    forgetConversation();
    stopWaitingForSocketReply();
    ui.log.replaceChildren();
    state.renderedEntries = 0;
    state.syncedSeq = 0;
    state.unsynced = [];
    state.ratingOffer = null;
    state.lastSender = '';
    state.servingAgent = null;
    state.handoff = null;
    clearTimeout(state.handoffPollTimer);
    hideAgentTyping();
    renderHandoff();
    setQuickReplies([]);
    setProgress(null);
    notices.clear();
    if (noticeKey) setNotice('info', t(noticeKey));
    else renderNotice();
    return ensureStarted();
  }

  async function sendMessage(text, displayText) {
    if (!state.conversation) {
      await ensureStarted();
      if (!state.conversation) {
        restoreInput(text, displayText);
        return;
      }
    }
    const { id, token } = state.conversation;
    reconnectAfterIdle(); // this message goes over REST while the socket opens; the next ones go live
    const generation = state.generation;
    const previousQuickReplies = state.quickReplies;
    const body = displayText ? { text, displayText } : { text };

    setQuickReplies([]);
    clearNotice('error');
    clearNotice('info');
    const userMessage = appendMessage('user', displayText || text);

    if (socketIsReady()) {
      try {
        state.socket.send(JSON.stringify({ type: 'message', ...body }));
        const pending = { row: userMessage, text, displayText, previousQuickReplies, started: false, toAgent: withAgent() };
        state.socketPending.push(pending);
        // An agent answers in their own time: no bot typing and no "no reply" timeout. Only an error frame
        // within a few seconds says the message was not taken.
        if (pending.toAgent) setTimeout(() => forgetPending(pending), TAKEN_AFTER_MS);
        else waitForSocketReply();
        return;
      } catch {
        // socket died between the check and the send: REST below
      }
    }

    const toAgent = withAgent();
    if (!toAgent) showTyping(true);
    try {
      const data = await request('POST', conversationPath(id, '/messages'), { body, token });
      if (generation !== state.generation) return;
      showTyping(false);
      clearNotice('connection');
      const lastReply = renderReplies(data.replies, data.progress);
      if (data.askRating === true && lastReply) offerRating(lastReply, data.answerSeq);
    } catch (error) {
      if (generation !== state.generation) return;
      showTyping(false);
      withdrawMessage(userMessage, text, displayText);
      if (isConversationGone(error)) {
        await startOver('ui.widget.expired');
        return;
      }
      setQuickReplies(previousQuickReplies);
      showFailure(error);
    }
  }

  /** The server did not take this message: its bubble goes, and its text back into the input. */
  function withdrawMessage(row, text, displayText) {
    row.remove();
    state.renderedEntries--;
    state.unsynced = state.unsynced.filter((other) => other !== row);
    restoreInput(text, displayText);
  }

  /** A message that could not be sent goes back where it came from, so the user can retry. */
  function restoreInput(text, displayText) {
    if (!displayText && ui.input && !ui.input.value) ui.input.value = text;
  }

  function showFailure(error) {
    if (error instanceof HttpError) setNotice('error', errorText(error.code));
    else setNotice('connection', t('ui.widget.connectionLost'));
  }

  // ---------------------------------------------------------------- websocket

  const socketIsReady = () =>
    Boolean(state.socket && state.socketReady && state.socket.readyState === WebSocket.OPEN);

  function connectSocket() {
    clearTimeout(state.reconnectTimer);
    if (!state.conversation || state.socketRejected || state.socket || typeof WebSocket !== 'function') return;
    const conversation = state.conversation;
    let socket;
    try {
      socket = new WebSocket(SOCKET_URL);
    } catch {
      scheduleReconnect();
      return;
    }
    state.socket = socket;
    state.socketReady = false;
    socket.addEventListener('open', () => {
      socket.send(JSON.stringify({ type: 'hello', conversation: conversation.id, token: conversation.token }));
    });
    socket.addEventListener('message', (event) => {
      if (state.socket === socket) handleFrame(event.data);
    });
    socket.addEventListener('close', (event) => {
      if (state.socket !== socket) return; // replaced or closed on purpose
      state.socket = null;
      state.socketReady = false;
      // A new socket reports nothing about these; the reply timeout's resync finds what was taken.
      state.socketPending = [];
      state.socketClosedIdle = event.code === IDLE_CLOSE_CODE;
      if (state.socketRejected || state.socketClosedIdle) return;
      // Only a drop is news to the user; a server that never had a socket still answers over REST.
      if (state.socketEverReady) setNotice('reconnecting', t('ui.widget.reconnecting'));
      scheduleReconnect();
    });
  }

  function scheduleReconnect() {
    clearTimeout(state.reconnectTimer);
    const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** Math.min(state.reconnectAttempt, 10));
    state.reconnectAttempt++;
    state.reconnectTimer = setTimeout(connectSocket, delay);
  }

  function reconnectNow() {
    if (!state.conversation || state.socket || state.socketRejected) return;
    state.reconnectAttempt = 0;
    connectSocket();
  }

  /** After the server closed an unused socket, the user's next step opens one again (nothing was lost: nothing came). */
  function reconnectAfterIdle() {
    if (!state.socketClosedIdle) return;
    state.socketClosedIdle = false;
    reconnectNow();
  }

  function closeSocket() {
    const socket = state.socket;
    state.socket = null;
    state.socketReady = false;
    state.socketPending = [];
    clearTimeout(state.reconnectTimer);
    if (socket) {
      try {
        socket.close(1000);
      } catch {
        // already closed
      }
    }
  }

  function handleFrame(raw) {
    let frame;
    try {
      frame = JSON.parse(raw);
    } catch {
      return;
    }
    if (!frame || typeof frame !== 'object') return;
    switch (frame.type) {
      case 'ready':
        state.socketReady = true;
        state.socketEverReady = true;
        state.reconnectAttempt = 0;
        clearNotice('reconnecting');
        clearNotice('connection');
        // Whatever came while no socket was open (a reply lost with the old one, an agent's message, a
        // claim or a resolve) is in the transcript: read on from the last line on screen.
        resyncTranscript();
        break;
      case 'typing':
        // The server runs one message at a time, in order, and announces each turn with "typing".
        {
          // A later turn started: earlier messages to the agent were taken.
          state.socketPending = state.socketPending.filter((pending) => !(pending.started && pending.toAgent));
          const next = state.socketPending.find((pending) => !pending.started);
          if (next) next.started = true;
          // While an agent holds the conversation the bot is not answering: no bot typing dots.
          if (!(next ? next.toAgent : withAgent())) showTyping(true);
        }
        break;
      case 'message':
        {
          // While an agent holds the conversation, a bot line outside the user's turns means the agent
          // resolved or handed back: their note goes first. A turn's replies name the turn's intent
          // (the secret warning, say); lines pushed outside a turn have none.
          const inTurn = 'intent' in frame && state.socketPending.some((pending) => pending.started || pending.toAgent);
          if (!inTurn && withAgent()) endAgentSession();
          // A reply means the started message was taken; only messages not started yet stay pending.
          state.socketPending = state.socketPending.filter((pending) => !pending.started);
          stopWaitingForSocketReply();
          showTyping(false);
          const row = appendMessage('bot', asText(frame.text));
          // Only the last frame of a turn says whether to ask; the earlier ones say false.
          if (frame.askRating === true) offerRating(row, frame.answerSeq);
        }
        setQuickReplies(quickRepliesOf(frame));
        if ('progress' in frame) setProgress(frame.progress);
        break;
      case 'agent.message':
        receiveAgentLine(frame);
        break;
      case 'agent.typing':
        showAgentTyping();
        break;
      case 'handoff.status':
        setHandoff(frame);
        break;
      case 'error':
        // Only typing frames can be invalid (message frames are built here): a server that does not
        // take them yet is not an error for the user, and is not sent more.
        if (frame.code === 'invalid_frame' && state.userTypingSentAt) {
          state.typingUnsupported = true;
          return;
        }
        if (frame.code === 'unauthorized') {
          // The server closes now. REST still carries this conversation, and starts over if it is gone.
          state.socketRejected = true;
          clearNotice('reconnecting');
          return;
        }
        stopWaitingForSocketReply();
        showTyping(false);
        refuseSocketMessage(state.socketPending.shift());
        setNotice('error', errorText(asText(frame.code)));
        break;
      default:
        break;
    }
  }

  /**
   * An error frame answers the oldest pending message: turns run in order and every taken message
   * gets at least one reply first. Like a failed REST request, it means the server did not take it,
   * whatever the code, so it comes back to the input to be resent: rate_limited, invalid_frame and
   * the like are refused before the turn; the input checks (empty_text, text_too_long,
   * control_characters, invalid_unicode) run before the conversation is touched; and turn_failed or
   * internal_error leave the conversation as it was (a turn is saved in one transaction or not at
   * all). Keeping the bubble would show a message the transcript does not have.
   */
  function refuseSocketMessage(pending) {
    if (!pending) return; // e.g. another tab's message: only the notice applies here
    withdrawMessage(pending.row, pending.text, pending.displayText);
    // Offer the buttons again if nothing newer replaced them (a refused tap can be tapped again).
    if (state.socketPending.length === 0 && state.quickReplies.length === 0) setQuickReplies(pending.previousQuickReplies);
  }

  function waitForSocketReply() {
    state.awaitingSocketReply = true;
    showTyping(true);
    clearTimeout(state.socketReplyTimer);
    state.socketReplyTimer = setTimeout(onSocketReplyTimeout, SOCKET_REPLY_TIMEOUT_MS);
  }

  function stopWaitingForSocketReply() {
    state.awaitingSocketReply = false;
    clearTimeout(state.socketReplyTimer);
  }

  async function onSocketReplyTimeout() {
    if (!state.awaitingSocketReply) return;
    const found = await resyncTranscript();
    if (!state.awaitingSocketReply) return;
    stopWaitingForSocketReply();
    showTyping(false);
    if (!found) setNotice('error', t('ui.widget.noReply'));
  }

  /**
   * Appends transcript lines that are not on screen yet, and takes the handover's state; true if
   * there were new lines. Asks only for the lines after the last one known (`?after=<seq>`).
   */
  async function resyncTranscript() {
    if (!state.conversation) return false;
    const { id, token } = state.conversation;
    const generation = state.generation;
    const after = state.syncedSeq;
    try {
      const data = await request('GET', conversationPath(id, `?after=${after}`), { token });
      if (generation !== state.generation) return false;
      const entries = Array.isArray(data.transcript) ? data.transcript : [];
      const bySeq = entries.every((entry) => entry && Number.isInteger(entry.seq));
      // A server without seq sends every line: the ones past those on screen are new.
      const fresh = bySeq ? entries.filter((entry) => entry.seq > after && !rowOfSeq(entry.seq) && !adoptLine(entry)) : entries.slice(state.renderedEntries);
      if (bySeq) state.syncedSeq = entries.reduce((max, entry) => Math.max(max, entry.seq), state.syncedSeq);
      if (fresh.length) appendEntries(fresh, handoffOf(data));
      else if ('handoff' in data) setHandoff(handoffOf(data));
      if (!fresh.length) return false;
      if ('progress' in data) setProgress(data.progress);
      stopWaitingForSocketReply();
      showTyping(false);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * A line that is on screen already, shown live before its seq was known, gets its seq now. Lines
   * are stored in the order they were shown, so it is the oldest unplaced bubble of the same role;
   * the user's then shows the stored text, with any secret it held hidden as the server hid it.
   */
  function adoptLine(entry) {
    if (entry.role !== 'user' && entry.role !== 'bot') return false;
    const row = state.unsynced.find((candidate) => candidate.classList.contains(`wub-row--${entry.role}`));
    if (!row) return false;
    const bubble = row.querySelector('[data-testid="wub-message"]');
    if (entry.role === 'user' && bubble && bubble.textContent !== entry.text) bubble.textContent = entry.text;
    row.dataset.seq = String(entry.seq);
    state.unsynced = state.unsynced.filter((other) => other !== row);
    return true;
  }

  const handoffOf = (data) => (data && data.handoff && typeof data.handoff === 'object' ? data.handoff : null);

  const rowOfSeq = (seq) => ui.log.querySelector(`[data-seq="${Number(seq)}"]`);

  // ---------------------------------------------------------------- rendering

  /** Shows a turn's replies; returns the row of the last one (null if none), for the rating. */
  function renderReplies(replies, progress) {
    const list = Array.isArray(replies) ? replies : [];
    let lastRow = null;
    for (const reply of list) {
      if (!reply || typeof reply.text !== 'string') continue;
      lastRow = appendMessage('bot', reply.text);
      setQuickReplies(quickRepliesOf(reply));
    }
    if (progress !== undefined) setProgress(progress);
    return lastRow;
  }

  // History after a reload is shown without rating rows: the offer belonged to that moment.
  function renderTranscript(data) {
    ui.log.replaceChildren();
    state.renderedEntries = 0;
    state.syncedSeq = 0;
    state.unsynced = [];
    state.ratingOffer = null;
    state.lastSender = '';
    state.servingAgent = null;
    state.handoff = null;
    const lines = Array.isArray(data.transcript) ? data.transcript : [];
    state.syncedSeq = lines.reduce((max, entry) => (entry && Number.isInteger(entry.seq) ? Math.max(max, entry.seq) : max), 0);
    appendEntries(Array.isArray(data.transcript) ? data.transcript : [], handoffOf(data));
    setProgress(data.progress ?? null);
  }

  /**
   * Appends transcript lines (the whole history, or what a resync found), with the notes a user saw
   * live: "客服 … 已接入" before an agent's first line, and their leaving before the bot speaks again
   * once they are gone (a later agent, or a handover that is no longer theirs).
   */
  function appendEntries(entries, handoff) {
    const lines = entries.filter((entry) => entry && typeof entry.text === 'string');
    const names = lines.map((entry) => (entry.role === 'agent' ? asText(entry.agentName) : null));
    const lastAgentLine = names.reduce((last, name, index) => (name !== null ? index : last), -1);
    const holderAtEnd = handoff && handoff.status === 'assigned' ? asText(handoff.agentName) : null;
    // A user line may hold the payload of the quick reply that was clicked; show its title instead.
    let offered = state.quickReplies;
    lines.forEach((entry, index) => {
      const meta = { at: entry.at, seq: entry.seq };
      if (entry.role === 'agent') {
        markServing(names[index]);
        appendMessage('agent', entry.text, { ...meta, agentName: names[index] });
      } else if (entry.role === 'user') {
        const clicked = offered.find((reply) => reply.payload === entry.text);
        appendMessage('user', asText(entry.displayText) || (clicked ? clicked.title : entry.text), meta);
        offered = [];
      } else {
        // The bot speaks after the agent's last line here: they left (unless they still hold it).
        if (state.servingAgent && index > lastAgentLine && state.servingAgent !== holderAtEnd) markServing(null);
        appendMessage('bot', entry.text, meta);
        offered = quickRepliesOf(entry);
      }
    });
    if (handoff !== undefined) setHandoff(handoff);
    const last = lines[lines.length - 1];
    if (last) setQuickReplies(last.role === 'bot' && !withAgent() ? quickRepliesOf(last) : []);
  }

  /** Who a bubble is from, for grouping: consecutive bubbles of one sender show the name once. */
  const senderOf = (role, agentName) => (role === 'agent' ? `agent:${agentName}` : role);

  /** The first character of a name, in a circle: the agent's "face" (and the assistant's). */
  function avatar(role, name) {
    const initial = Array.from(name.trim())[0] || '?';
    return el('span', { class: `wub-avatar wub-avatar--${role}`, 'aria-hidden': 'true', text: initial });
  }

  function appendMessage(role, text, { at, agentName = '', seq } = {}) {
    if (role !== 'user') withdrawRatingOffer();
    if (role === 'agent') hideAgentTyping();
    const sender = senderOf(role, agentName);
    const first = sender !== state.lastSender;
    state.lastSender = sender;
    const name = role === 'agent' ? t('ui.widget.agentName', { name: agentName }) : role === 'bot' ? t('ui.widget.botName') : '';
    const says =
      role === 'agent' ? t('ui.widget.agentSays', { name: agentName }) : t(role === 'user' ? 'ui.widget.userSays' : 'ui.widget.botSays');
    const when = at ? new Date(at) : new Date();
    const stamp = Number.isNaN(when.getTime()) ? new Date() : when;
    const column = el('div', { class: 'wub-stack' }, [
      ...(first && name ? [el('div', { class: 'wub-sender', 'data-testid': 'wub-sender', 'aria-hidden': 'true', text: name })] : []),
      el('span', { class: 'wub-visually-hidden', text: says }),
      el('div', { class: `wub-msg wub-msg--${role}`, 'data-testid': 'wub-message', 'data-role': role }, [text]),
      el('time', { class: 'wub-time', datetime: stamp.toISOString(), 'data-testid': 'wub-time', text: formatTime(stamp) }),
    ]);
    const face = role === 'user' ? [] : [first ? avatar(role, role === 'agent' ? agentName : t('ui.widget.botName')) : el('span', { class: 'wub-avatar-gap' })];
    const row = el(
      'div',
      {
        class: `wub-row wub-row--${role}${first ? ' wub-row--first' : ''}`,
        'data-seq': Number.isInteger(seq) ? seq : undefined,
        'data-agent': role === 'agent' ? agentName : undefined,
      },
      [...face, column],
    );
    ui.log.append(row);
    state.renderedEntries++;
    if (!Number.isInteger(seq)) state.unsynced.push(row);
    // A line right after the last known one, with nothing unplaced before it, extends what is known.
    else if (seq === state.syncedSeq + 1 && state.unsynced.length === 0) state.syncedSeq = seq;
    scrollToEnd();
    return row;
  }

  /** A line between the bubbles about the conversation itself (an agent joined or left). */
  function appendNote(text) {
    const note = el('div', { class: 'wub-note', 'data-testid': 'wub-note' }, [el('span', { class: 'wub-note-text', text })]);
    ui.log.append(note);
    state.lastSender = ''; // the next bubble shows its sender again
    scrollToEnd();
  }

  // Times as the user's clock shows them; the date too when it is not today.
  function formatTime(date) {
    const lang = t('ui.widget.lang');
    const sameDay = date.toDateString() === new Date().toDateString();
    const options = sameDay
      ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
      : { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
    try {
      return new Intl.DateTimeFormat(lang, options).format(date);
    } catch {
      return new Intl.DateTimeFormat(undefined, options).format(date);
    }
  }

  // ---------------------------------------------------------------- handover to a human

  const withAgent = () => Boolean(state.handoff && state.handoff.status === 'assigned');
  const handedOver = () => Boolean(state.handoff && state.handoff.status !== 'resolved');

  /** The note of an agent joining (name) or of the one on screen leaving (null), each shown once. */
  function markServing(name) {
    const current = state.servingAgent;
    if (current === name) return;
    if (current) appendNote(t('ui.widget.handoff.ended', { name: current }));
    state.servingAgent = name || null;
    if (name) appendNote(t('ui.widget.handoff.joined', { name }));
  }

  /** The agent is gone (resolved or handed back): the bot answers again. */
  function endAgentSession() {
    markServing(null);
    hideAgentTyping();
    if (state.handoff && state.handoff.status === 'assigned') state.handoff = { ...state.handoff, status: 'resolved' };
    renderHandoff();
  }

  function receiveAgentLine(frame) {
    const agentName = asText(frame.agentName);
    if (Number.isInteger(frame.seq) && rowOfSeq(frame.seq)) return; // a resync showed it already
    // Said to this user, so someone holds the conversation even if the status frame was missed.
    if (!withAgent()) setHandoff({ ...(state.handoff || {}), status: 'assigned', agentName });
    markServing(agentName);
    // Messages sent before this were taken (an agent only answers what arrived).
    state.socketPending = state.socketPending.filter((pending) => !(pending.started && pending.toAgent));
    appendMessage('agent', asText(frame.text), { at: frame.at, agentName, seq: frame.seq });
  }

  /** A message to the agent that got no error in time was taken: it no longer answers an error frame. */
  function forgetPending(pending) {
    state.socketPending = state.socketPending.filter((other) => other !== pending);
  }

  /** Takes the server's view of the handover (a `handoff.status` frame or the conversation's `handoff`). */
  function setHandoff(view) {
    const valid = view && ['waiting', 'assigned', 'resolved'].includes(view.status);
    const next = valid
      ? {
          status: view.status,
          position: Number.isInteger(view.position) && view.position >= 0 ? view.position : null,
          agentName: asText(view.agentName),
          serviceHours: asText(view.serviceHours),
          available: view.available !== false,
        }
      : null;
    state.handoff = next;
    if (next && next.status === 'assigned' && next.agentName) {
      markServing(next.agentName);
      setQuickReplies([]); // the waiting buttons ("不等了…") no longer apply
    } else if (!next || next.status !== 'assigned') {
      markServing(null);
      hideAgentTyping();
    }
    renderHandoff();
    scheduleHandoffPoll();
  }

  /**
   * An agent writes whenever they like: without a socket to push it, the widget reads on from the
   * transcript every few seconds while the conversation is handed over.
   */
  function scheduleHandoffPoll() {
    clearTimeout(state.handoffPollTimer);
    if (!handedOver() || !state.conversation) return;
    const generation = state.generation;
    state.handoffPollTimer = setTimeout(async () => {
      if (generation !== state.generation) return;
      if (!socketIsReady()) await resyncTranscript();
      if (generation === state.generation) scheduleHandoffPoll();
    }, HANDOFF_POLL_MS);
  }

  /**
   * The strip above the messages while a conversation is handed over: where the user is in the
   * queue and the service hours, or that nobody is online (then without the waiting animation, since
   * nobody is coming soon), and a way back to the bot; once claimed, who is answering.
   */
  function renderHandoff() {
    const handoff = state.handoff;
    const status = handoff && handoff.status !== 'resolved' ? handoff.status : '';
    ui.handoff.hidden = !status;
    ui.handoff.dataset.status = status;
    ui.handoff.classList.toggle('wub-handoff--offline', status === 'waiting' && !handoff.available);
    if (!status) return;
    const hours = handoff.serviceHours ? t('ui.widget.handoff.hours', { hours: handoff.serviceHours }) : '';
    if (status === 'assigned') {
      const name = handoff.agentName;
      ui.handoffIcon.replaceChildren(avatar('agent', name || '?'));
      ui.handoffTitle.textContent = t('ui.widget.handoff.serving', { name });
      ui.handoffDetail.textContent = '';
      ui.handoffHours.textContent = '';
      ui.handoffCancel.hidden = true;
      return;
    }
    const position = handoff.position;
    ui.handoffIcon.replaceChildren(...(handoff.available ? [el('span', { class: 'wub-handoff-pulse' })] : [el('span', { class: 'wub-handoff-clock' })]));
    if (handoff.available) {
      ui.handoffTitle.textContent = t('ui.widget.handoff.waiting');
      ui.handoffDetail.textContent =
        position === null ? t('ui.widget.handoff.next') : position === 0 ? t('ui.widget.handoff.next') : t('ui.widget.handoff.position', { position });
    } else {
      ui.handoffTitle.textContent = t('ui.widget.handoff.nobody');
      ui.handoffDetail.textContent = t('ui.widget.handoff.queued', { position: position ?? 0 });
    }
    ui.handoffHours.textContent = hours;
    ui.handoffHours.hidden = !hours;
    ui.handoffCancel.hidden = false;
  }

  function showAgentTyping() {
    if (!withAgent()) return;
    const name = state.handoff.agentName;
    ui.agentTypingFace.replaceChildren(avatar('agent', name || '?'));
    ui.agentTypingLabel.textContent = t('ui.widget.agentTyping', { name });
    ui.agentTyping.hidden = false;
    clearTimeout(state.agentTypingTimer);
    state.agentTypingTimer = setTimeout(hideAgentTyping, AGENT_TYPING_SHOWN_MS);
    scrollToEnd();
  }

  function hideAgentTyping() {
    clearTimeout(state.agentTypingTimer);
    if (ui.agentTyping) ui.agentTyping.hidden = true;
  }

  /** While handed over, the agent sees that the user is typing; at most one frame every few seconds. */
  function sendUserTyping() {
    if (!handedOver() || state.typingUnsupported || !socketIsReady() || !ui.input.value.trim()) return;
    const now = Date.now();
    if (now - state.userTypingSentAt < USER_TYPING_EVERY_MS) return;
    state.userTypingSentAt = now;
    try {
      state.socket.send(JSON.stringify({ type: 'typing' }));
    } catch {
      // socket closing: typing is only a hint
    }
  }

  // ---------------------------------------------------------------- rating

  /**
   * Puts the one-tap "was this helpful?" row right under a bot message. `answerSeq` names that
   * answer to the server, so the rating lands on it even if more was said before the tap.
   */
  function offerRating(messageRow, answerSeq) {
    withdrawRatingOffer();
    const generation = state.generation;
    const questionId = `wub-rating-question-${++state.ratingCount}`;
    const question = el('span', { id: questionId, class: 'wub-rating-question', text: t('ui.widget.rating.question') });
    const helpful = el('button', {
      type: 'button',
      class: 'wub-rate',
      'data-testid': 'wub-rate-helpful',
      text: t('ui.widget.rating.helpful'),
    });
    const notHelpful = el('button', {
      type: 'button',
      class: 'wub-rate',
      'data-testid': 'wub-rate-not-helpful',
      text: t('ui.widget.rating.notHelpful'),
    });
    const buttons = el('div', { class: 'wub-rating-buttons', role: 'group', 'aria-labelledby': questionId }, [helpful, notHelpful]);
    // Present (and empty) from the start, so screen readers announce the thanks when it is filled in.
    const thanks = el('span', { class: 'wub-rating-thanks', role: 'status', 'aria-live': 'polite', 'data-testid': 'wub-rating-thanks' });
    const row = el('div', { class: 'wub-rating', 'data-testid': 'wub-rating' }, [question, buttons, thanks]);

    let sending = false;
    let failed = false;
    const rate = async (isHelpful, event) => {
      if (sending || state.ratingOffer !== row || generation !== state.generation || !state.conversation) return;
      sending = true;
      row.setAttribute('aria-busy', 'true');
      const { id, token } = state.conversation;
      try {
        const body = Number.isInteger(answerSeq) ? { helpful: isHelpful, answerSeq } : { helpful: isHelpful };
        await request('POST', conversationPath(id, '/rating'), { body, token });
      } catch (error) {
        sending = false;
        row.removeAttribute('aria-busy');
        if (generation !== state.generation || state.ratingOffer !== row) return;
        failed = true;
        showFailure(error); // the buttons stay, so the user can tap again
        return;
      }
      if (failed) {
        clearNotice('error');
        clearNotice('connection');
      }
      if (generation !== state.generation || !row.isConnected) return;
      if (state.ratingOffer === row) state.ratingOffer = null;
      // The focused button is about to go; keyboard users continue in the input, as after a quick reply.
      const hadFocus = row.contains(document.activeElement);
      question.remove();
      buttons.remove();
      row.removeAttribute('aria-busy');
      row.classList.add('wub-rating--done');
      thanks.textContent = t('ui.widget.rating.thanks');
      if (hadFocus && (event.detail === 0 || !coarsePointer())) ui.input.focus({ preventScroll: true });
    };
    helpful.addEventListener('click', (event) => rate(true, event));
    notHelpful.addEventListener('click', (event) => rate(false, event));

    messageRow.after(row);
    state.ratingOffer = row;
    scrollToEnd();
  }

  /** A newer answer makes an unanswered rating row stale: remove it. */
  function withdrawRatingOffer() {
    if (state.ratingOffer) state.ratingOffer.remove();
    state.ratingOffer = null;
  }

  function setQuickReplies(replies) {
    state.quickReplies = replies;
    ui.quickReplies.replaceChildren(
      ...replies.map((reply) => {
        const button = el('button', { type: 'button', class: 'wub-quick-reply', text: reply.title });
        button.addEventListener('click', (event) => {
          // Keyboard users keep a focus; on touch screens focusing the input would pop up the keyboard.
          if (event.detail === 0 || !coarsePointer()) ui.input.focus({ preventScroll: true });
          sendMessage(reply.payload, reply.title);
        });
        return button;
      }),
    );
    ui.quickReplies.hidden = replies.length === 0;
    scrollToEnd();
  }

  function showTyping(visible) {
    ui.typing.hidden = !visible;
    if (visible) scrollToEnd();
  }

  function setNotice(kind, text) {
    notices.delete(kind);
    notices.set(kind, text);
    renderNotice();
  }

  function clearNotice(kind) {
    if (notices.delete(kind)) renderNotice();
  }

  function renderNotice() {
    const kinds = [...notices.keys()];
    const kind = kinds[kinds.length - 1];
    ui.notice.hidden = !kind;
    ui.notice.textContent = kind ? notices.get(kind) : '';
    ui.notice.dataset.kind = kind || '';
  }

  function scrollToEnd() {
    ui.scroller.scrollTop = ui.scroller.scrollHeight;
  }

  function setProgress(progress) {
    const valid =
      progress && Number.isInteger(progress.step) && Number.isInteger(progress.total) && progress.total > 0 && progress.step > 0;
    ui.progress.hidden = !valid;
    if (!valid) {
      state.progressKey = '';
      return;
    }
    const { step, total } = progress;
    const key = `${step}/${total}`;
    if (key === state.progressKey) return; // unchanged: keep the sketch (and its animation) as it is
    state.progressKey = key;
    const target = stepTarget(step);
    ui.progressStep.textContent = t('ui.widget.progress', { step, total });
    ui.progressHint.textContent = target ? t('ui.widget.tapHint', { target }) : '';
    ui.progressHint.hidden = !target;
    ui.progressFill.style.width = `${Math.min(100, (step / total) * 100)}%`;
    const sketch = target ? drawStepSketch(step, t('ui.widget.sketchAlt', { step, target })) : null;
    ui.sketch.replaceChildren(...(sketch ? [sketch] : []));
    ui.sketch.hidden = !sketch;
  }

  // ---------------------------------------------------------------- step sketches

  function sketchLabels() {
    return {
      wechat: t('ui.widget.sketch.wechat'),
      me: t('ui.widget.sketch.me'),
      servicePay: `${t('ui.widget.sketch.service')}/${t('ui.widget.sketch.pay')}`,
      wallet: t('ui.widget.sketch.wallet'),
      walletItem: t('ui.widget.sketch.walletItem'),
      unbind: t('ui.widget.sketch.unbind'),
      confirm: t('ui.widget.sketch.confirm'),
    };
  }

  /** What the user taps at each of the 7 steps. */
  function stepTarget(step) {
    const labels = sketchLabels();
    return [labels.wechat, labels.me, labels.servicePay, labels.wallet, labels.walletItem, labels.unbind, labels.confirm][
      step - 1
    ];
  }

  // Simple shapes on a 72×128 phone; the screen is x 5–67, y 12–116.
  const COLOR = {
    ink: '#4b5563',
    screen: '#f3f4f6',
    block: '#d1d5db',
    light: '#e5e7eb',
    grey: '#9ca3af',
    white: '#ffffff',
    green: '#07c160',
    darkGreen: '#067a3c',
    blue: '#2563eb',
    red: '#b91c1c',
    text: '#111827',
    target: '#ea580c',
  };

  const rect = (x, y, width, height, fill, extra = {}) => svg('rect', { x, y, width, height, fill, ...extra });
  const bar = (x, y, width, fill = COLOR.block) => rect(x, y, width, 2.5, fill, { rx: 1.25 });
  const circle = (cx, cy, r, fill) => svg('circle', { cx, cy, r, fill });
  const label = (x, y, text, extra = {}) =>
    svg('text', { x, y, 'font-size': 5.5, 'text-anchor': 'middle', fill: COLOR.text, text, ...extra });
  const chevron = (x, y, direction = 1) =>
    svg('path', {
      d: `M${x - 1.2 * direction} ${y - 2.4} L${x + 1.2 * direction} ${y} L${x - 1.2 * direction} ${y + 2.4}`,
      fill: 'none',
      stroke: COLOR.grey,
      'stroke-width': 0.9,
      'stroke-linecap': 'round',
    });
  // A white halo under the orange ring keeps it visible on light and dark backgrounds alike.
  const highlight = (x, y, width, height) =>
    svg('g', { class: 'wub-sk-target' }, [
      rect(x, y, width, height, 'none', { rx: 3, stroke: COLOR.white, 'stroke-width': 3.5 }),
      rect(x, y, width, height, 'none', { rx: 3, stroke: COLOR.target, 'stroke-width': 2 }),
    ]);

  function phoneFrame() {
    return [
      rect(1, 1, 70, 126, COLOR.white, { rx: 10, stroke: COLOR.ink, 'stroke-width': 2 }),
      rect(5, 12, 62, 104, COLOR.screen, { rx: 2 }),
      rect(28, 5, 16, 3, COLOR.grey, { rx: 1.5 }),
      rect(30, 120, 12, 3, COLOR.grey, { rx: 1.5 }),
    ];
  }

  function tabBar(labels, active) {
    const parts = [rect(5, 100, 62, 16, '#fafafa'), rect(5, 100, 62, 0.6, COLOR.block)];
    [12.75, 28.25, 43.75, 59.25].forEach((cx, index) => {
      parts.push(circle(cx, 105, 2.8, index === active ? COLOR.green : COLOR.grey));
      if (index === 0) parts.push(label(cx, 114, labels.wechat, { 'font-size': 5 }));
      else if (index === 3) parts.push(label(cx, 114, labels.me, { 'font-size': 5 }));
      else parts.push(bar(cx - 4, 111, 8));
    });
    return parts;
  }

  const sketches = [
    // 1: home screen, the green chat-bubble app
    (labels) => {
      const parts = [];
      [20, 42, 64, 86].forEach((y, row) =>
        [11, 29, 47].forEach((x, column) => {
          if (row === 1 && column === 1) return;
          parts.push(rect(x, y, 14, 14, COLOR.block, { rx: 3.5 }), bar(x + 2, y + 17, 10));
        }),
      );
      parts.push(
        rect(29, 42, 14, 14, COLOR.green, { rx: 3.5 }),
        svg('ellipse', { cx: 34.5, cy: 48, rx: 3.6, ry: 3, fill: COLOR.white }),
        svg('ellipse', { cx: 38.6, cy: 51, rx: 3, ry: 2.5, fill: COLOR.white, stroke: COLOR.green, 'stroke-width': 0.8 }),
        label(36, 62.5, labels.wechat),
        highlight(26, 39, 20, 26),
      );
      return parts;
    },
    // 2: chat list with the bottom tab bar, rightmost tab
    (labels) => {
      const parts = [rect(5, 12, 62, 10, COLOR.light), bar(28, 16, 16, COLOR.grey)];
      for (let index = 0; index < 5; index++) {
        const y = 26 + index * 14;
        parts.push(rect(9, y, 9, 9, COLOR.block, { rx: 2 }), bar(22, y + 1, 30), bar(22, y + 6, 20, COLOR.light));
      }
      parts.push(...tabBar(labels, 0), highlight(52.5, 100.5, 14, 15));
      return parts;
    },
    // 3: the "me" page, the services/pay row under the profile
    (labels) => {
      const parts = [
        rect(5, 12, 62, 28, COLOR.white),
        rect(10, 20, 12, 12, COLOR.block, { rx: 2 }),
        bar(26, 21, 22, COLOR.grey),
        bar(26, 28, 30),
        rect(5, 44, 62, 12, COLOR.white),
        rect(9, 47, 6, 6, COLOR.green, { rx: 1.5 }),
        label(18, 52.3, labels.servicePay, { 'text-anchor': 'start' }),
        chevron(61, 50),
      ];
      for (const y of [60, 72, 84]) {
        parts.push(rect(5, y, 62, 11, COLOR.white), rect(9, y + 3, 5, 5, COLOR.block, { rx: 1.2 }), bar(18, y + 4.2, 22));
      }
      parts.push(...tabBar(labels, 3), highlight(6, 43.5, 60, 13));
      return parts;
    },
    // 4: pay page, the wallet tile in the green header
    (labels) => {
      const parts = [
        rect(5, 12, 62, 38, '#059669'),
        rect(13, 20, 10, 10, 'none', { rx: 1.5, stroke: COLOR.white, 'stroke-width': 1.2 }),
        rect(16, 23, 4, 4, COLOR.white),
        bar(12, 38, 12, 'rgba(255,255,255,0.75)'),
        rect(44, 21, 12, 9, 'none', { rx: 1.5, stroke: COLOR.white, 'stroke-width': 1.2 }),
        rect(51, 24, 5, 3, COLOR.white, { rx: 1 }),
        label(50, 41, labels.wallet, { fill: COLOR.white, 'font-size': 6 }),
      ];
      for (const y of [58, 76, 94]) {
        for (const x of [10, 24, 38, 52]) parts.push(rect(x, y, 8, 8, COLOR.block, { rx: 2 }), bar(x - 1, y + 11, 10, COLOR.light));
      }
      parts.push(highlight(39, 16, 22, 30));
      return parts;
    },
    // 5: wallet page, one row of the list of bound wallets
    (labels) => {
      const parts = [rect(5, 12, 62, 11, COLOR.light), chevron(10, 17.5, -1), label(36, 19.5, labels.wallet)];
      for (let index = 0; index < 4; index++) {
        const y = 28 + index * 16;
        const chosen = index === 1;
        parts.push(rect(8, y, 56, 13, COLOR.white, { rx: 2 }), circle(14, y + 6.5, 3.5, chosen ? COLOR.blue : COLOR.block));
        parts.push(chosen ? label(20, y + 8.6, labels.walletItem, { 'text-anchor': 'start' }) : bar(20, y + 5.2, 26));
        parts.push(chevron(60, y + 6.5));
      }
      parts.push(highlight(7, 43, 58, 15));
      return parts;
    },
    // 6: wallet detail, the unbind button
    (labels) => [
      rect(5, 12, 62, 11, COLOR.light),
      chevron(10, 17.5, -1),
      rect(10, 28, 52, 30, COLOR.blue, { rx: 4 }),
      circle(18, 36, 3.5, 'rgba(255,255,255,0.85)'),
      bar(24, 35, 20, 'rgba(255,255,255,0.85)'),
      bar(16, 48, 30, 'rgba(255,255,255,0.6)'),
      bar(10, 66, 40),
      bar(10, 73, 32),
      bar(10, 80, 44),
      rect(12, 92, 48, 12, COLOR.white, { rx: 3, stroke: COLOR.red, 'stroke-width': 0.8 }),
      label(36, 100, labels.unbind, { fill: COLOR.red, 'font-size': 6 }),
      highlight(10, 90, 52, 16),
    ],
    // 7: confirmation dialog over the dimmed page, the confirm button
    (labels) => [
      rect(5, 12, 62, 11, COLOR.light),
      rect(10, 28, 52, 30, COLOR.blue, { rx: 4 }),
      bar(10, 66, 40),
      rect(12, 92, 48, 12, COLOR.white, { rx: 3 }),
      rect(5, 12, 62, 104, '#000000', { 'fill-opacity': 0.45, rx: 2 }),
      rect(11, 42, 50, 40, COLOR.white, { rx: 4 }),
      bar(17, 50, 38),
      bar(17, 56, 30),
      rect(11, 66, 50, 0.6, COLOR.block),
      rect(36, 66, 0.6, 16, COLOR.block),
      bar(19, 73, 10, COLOR.grey),
      label(48.5, 76.2, labels.confirm, { fill: COLOR.darkGreen, 'font-size': 6, 'font-weight': 600 }),
      highlight(37.5, 67, 22.5, 14),
    ],
  ];

  function drawStepSketch(step, description) {
    const draw = sketches[step - 1];
    if (!draw) return null;
    return svg(
      'svg',
      { class: 'wub-sketch-svg', viewBox: '0 0 72 128', role: 'img', 'aria-label': description, focusable: 'false' },
      [...phoneFrame(), ...draw(sketchLabels())],
    );
  }

  function chatIcon() {
    return svg('svg', { class: 'wub-icon wub-icon-chat', viewBox: '0 0 24 24', 'aria-hidden': 'true', focusable: 'false' }, [
      svg('path', { d: 'M4 6a3 3 0 0 1 3-3h10a3 3 0 0 1 3 3v7a3 3 0 0 1-3 3h-6l-5 4v-4a2 2 0 0 1-2-2z', fill: 'currentColor' }),
    ]);
  }

  function closeIcon(extraClass = '') {
    return svg('svg', { class: `wub-icon wub-icon-close ${extraClass}`.trim(), viewBox: '0 0 24 24', 'aria-hidden': 'true', focusable: 'false' }, [
      svg('path', { d: 'M6 6l12 12M18 6L6 18', fill: 'none', stroke: 'currentColor', 'stroke-width': 2.2, 'stroke-linecap': 'round' }),
    ]);
  }

  // ---------------------------------------------------------------- DOM

  function build() {
    ui.bubble = el(
      'button',
      {
        type: 'button',
        class: 'wub-bubble',
        'data-testid': 'wub-bubble',
        'aria-label': t('ui.widget.open'),
        'aria-expanded': 'false',
        'aria-controls': 'wub-panel',
      },
      [chatIcon(), closeIcon()],
    );

    ui.newButton = el('button', {
      type: 'button',
      class: 'wub-header-button wub-new',
      'data-testid': 'wub-new',
      text: t('ui.widget.newConversation'),
    });
    ui.closeButton = el(
      'button',
      { type: 'button', class: 'wub-header-button wub-close', 'data-testid': 'wub-close', 'aria-label': t('ui.widget.close') },
      [closeIcon()],
    );

    ui.sketch = el('div', { class: 'wub-sketch', 'data-testid': 'wub-sketch' });
    ui.progressStep = el('div', { class: 'wub-progress-step' });
    ui.progressHint = el('div', { class: 'wub-progress-hint' });
    ui.progressFill = el('div', { class: 'wub-progress-fill' });
    ui.progress = el('div', { class: 'wub-progress', 'data-testid': 'wub-progress', hidden: true }, [
      ui.sketch,
      el('div', { class: 'wub-progress-text' }, [
        ui.progressStep,
        ui.progressHint,
        el('div', { class: 'wub-progress-bar', 'aria-hidden': 'true' }, [ui.progressFill]),
      ]),
    ]);

    ui.log = el('div', {
      class: 'wub-log',
      role: 'log',
      'aria-live': 'polite',
      'aria-label': t('ui.widget.log'),
      'data-testid': 'wub-log',
    });
    ui.typing = el(
      'div',
      { class: 'wub-typing', role: 'status', 'aria-label': t('ui.widget.typing'), 'data-testid': 'wub-typing', hidden: true },
      [
        el('span', { class: 'wub-dot', 'aria-hidden': 'true' }),
        el('span', { class: 'wub-dot', 'aria-hidden': 'true' }),
        el('span', { class: 'wub-dot', 'aria-hidden': 'true' }),
        el('span', { class: 'wub-visually-hidden', text: t('ui.widget.typing') }),
      ],
    );
    ui.agentTypingFace = el('span', { class: 'wub-agent-typing-face' });
    ui.agentTypingLabel = el('span', { class: 'wub-visually-hidden' });
    ui.agentTyping = el('div', { class: 'wub-agent-typing', role: 'status', 'data-testid': 'wub-agent-typing', hidden: true }, [
      ui.agentTypingFace,
      el('span', { class: 'wub-typing wub-typing--agent', 'aria-hidden': 'true' }, [
        el('span', { class: 'wub-dot' }),
        el('span', { class: 'wub-dot' }),
        el('span', { class: 'wub-dot' }),
      ]),
      ui.agentTypingLabel,
    ]);
    ui.quickReplies = el('div', {
      class: 'wub-quick-replies',
      role: 'group',
      'aria-label': t('ui.widget.quickReplies'),
      'data-testid': 'wub-quick-replies',
      hidden: true,
    });
    ui.scroller = el('div', { class: 'wub-scroll', tabindex: '-1' }, [ui.log, ui.typing, ui.agentTyping, ui.quickReplies]);

    ui.handoffIcon = el('div', { class: 'wub-handoff-icon', 'aria-hidden': 'true' });
    ui.handoffTitle = el('div', { class: 'wub-handoff-title', 'data-testid': 'wub-handoff-title' });
    ui.handoffDetail = el('div', { class: 'wub-handoff-detail', 'data-testid': 'wub-handoff-detail' });
    ui.handoffHours = el('div', { class: 'wub-handoff-hours', 'data-testid': 'wub-handoff-hours' });
    ui.handoffCancel = el('button', {
      type: 'button',
      class: 'wub-handoff-cancel',
      'data-testid': 'wub-handoff-cancel',
      text: t('ui.widget.handoff.cancel'),
    });
    ui.handoff = el(
      'div',
      { class: 'wub-handoff', role: 'status', 'aria-label': t('ui.widget.handoff.label'), 'data-testid': 'wub-handoff', hidden: true },
      [ui.handoffIcon, el('div', { class: 'wub-handoff-text' }, [ui.handoffTitle, ui.handoffDetail, ui.handoffHours]), ui.handoffCancel],
    );

    ui.notice = el('div', { class: 'wub-notice', role: 'status', 'data-testid': 'wub-notice', hidden: true });

    ui.input = el('input', {
      id: 'wub-input',
      class: 'wub-input',
      type: 'text',
      'data-testid': 'wub-input',
      placeholder: t('ui.widget.placeholder'),
      autocomplete: 'off',
      enterkeyhint: 'send',
    });
    ui.send = el('button', { type: 'button', class: 'wub-send', 'data-testid': 'wub-send', text: t('ui.widget.send') });

    ui.panel = el(
      'div',
      { id: 'wub-panel', class: 'wub-panel', role: 'region', 'aria-label': t('ui.widget.title'), 'data-testid': 'wub-panel', hidden: true },
      [
        el('div', { class: 'wub-header' }, [
          el('div', { class: 'wub-title', text: t('ui.widget.title') }),
          ui.newButton,
          ui.closeButton,
        ]),
        ui.progress,
        ui.handoff,
        ui.scroller,
        ui.notice,
        el('div', { class: 'wub-composer' }, [
          el('label', { class: 'wub-visually-hidden', for: 'wub-input', text: t('ui.widget.inputLabel') }),
          ui.input,
          ui.send,
        ]),
      ],
    );

    ui.root = el('div', { class: 'wub-root', lang: t('ui.widget.lang') }, [ui.panel, ui.bubble]);
    document.body.append(ui.root);
    wireEvents();
    syncViewport();
  }

  function wireEvents() {
    ui.bubble.addEventListener('click', () => (isOpen() ? close() : open()));
    ui.closeButton.addEventListener('click', () => close());
    ui.newButton.addEventListener('click', () => {
      startOver();
      ui.input.focus({ preventScroll: true });
    });
    ui.send.addEventListener('click', submitInput);
    ui.input.addEventListener('input', sendUserTyping);
    ui.input.addEventListener('focus', reconnectAfterIdle);
    ui.input.addEventListener('input', reconnectAfterIdle);
    ui.handoffCancel.addEventListener('click', (event) => {
      if (event.detail === 0 || !coarsePointer()) ui.input.focus({ preventScroll: true });
      sendMessage('/cancel', t('ui.widget.handoff.cancel'));
    });

    let composing = false; // Enter that commits an IME candidate must not send
    ui.input.addEventListener('compositionstart', () => {
      composing = true;
    });
    ui.input.addEventListener('compositionend', () => {
      composing = false;
    });
    ui.input.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter' || event.shiftKey) return;
      if (composing || event.isComposing || event.keyCode === 229) return;
      event.preventDefault();
      submitInput();
    });

    document.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape' || event.isComposing || !isOpen()) return;
      const focus = document.activeElement;
      if (focus && focus !== document.body && !ui.root.contains(focus)) return; // the host page's Esc
      event.preventDefault();
      close();
      ui.bubble.focus();
    });

    window.addEventListener('online', () => {
      clearNotice('connection');
      if (state.conversation) reconnectNow();
      else if (isOpen()) ensureStarted();
    });
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') reconnectNow(); // phones drop sockets in the background
    });

    if (window.visualViewport) {
      window.visualViewport.addEventListener('resize', syncViewport);
      window.visualViewport.addEventListener('scroll', syncViewport);
    }
  }

  // On phones the panel follows the visual viewport, so the on-screen keyboard never covers the input.
  function syncViewport() {
    const viewport = window.visualViewport;
    if (!viewport || !ui.root) return;
    ui.root.style.setProperty('--wub-vv-height', `${viewport.height}px`);
    ui.root.style.setProperty('--wub-vv-top', `${viewport.offsetTop}px`);
    ui.root.classList.add('wub-vv');
    ui.panel.classList.toggle('wub-compact', viewport.height < COMPACT_BELOW_PX);
    if (isOpen()) scrollToEnd();
  }

  function submitInput() {
    const text = ui.input.value.trim();
    if (!text) {
      ui.input.focus();
      return;
    }
    ui.input.value = '';
    sendMessage(text);
  }

  const isOpen = () => Boolean(ui.panel && !ui.panel.hidden);

  function open() {
    if (!ui.panel) {
      state.openRequested = true;
      return;
    }
    if (!isOpen()) {
      ui.panel.hidden = false;
      ui.root.classList.add('wub-open');
      ui.bubble.setAttribute('aria-expanded', 'true');
      ui.bubble.setAttribute('aria-label', t('ui.widget.close'));
      syncViewport();
    }
    ui.input.focus({ preventScroll: true });
    scrollToEnd();
    ensureStarted();
  }

  function close() {
    if (!ui.panel) {
      state.openRequested = false;
      return;
    }
    if (!isOpen()) return;
    const hadFocus = ui.panel.contains(document.activeElement);
    ui.panel.hidden = true;
    ui.root.classList.remove('wub-open');
    ui.bubble.setAttribute('aria-expanded', 'false');
    ui.bubble.setAttribute('aria-label', t('ui.widget.open'));
    if (hadFocus) ui.bubble.focus();
  }

  window.WalletUnbindWidget = { open, close };

  async function init() {
    if (document.readyState === 'loading') {
      await new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve, { once: true }));
    }
    const [texts] = await Promise.all([
      withTimeout(loadTexts(), STARTUP_TIMEOUT_MS, null),
      withTimeout(loadStylesheet(), STARTUP_TIMEOUT_MS, undefined),
    ]);
    state.texts = texts || {};
    build();
    if (state.openRequested) open();
  }

  init();
})();
