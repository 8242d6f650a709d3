/*
 * Support-team dashboard of the wallet-unbinding bot, served at /admin.
 *
 * Plain ES2020, no framework, no build step; charts use the global `Chart` (Chart.js 4) from
 * /admin/vendor/chart.umd.js. Every label comes from GET /api/ui (`ui.admin.*`), so this file
 * holds no text for the team. Everything the server sends is set with textContent, never parsed as
 * HTML: transcripts and unanswered questions are what users typed. The page runs under a strict
 * Content-Security-Policy, so it adds no inline script and no style attribute from markup.
 */
(() => {
  'use strict';

  const TOKEN_KEY = 'wub.admin.token';
  const DEFAULT_DAYS = 30;
  const EXAMPLES_SHOWN = 3;
  const TICKET_STATUSES = ['open', 'closed', 'all'];
  const TICKETS_PER_PAGE = 20;
  const NO_VALUE = '—';
  const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

  // Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
  const COLORS = {
    blue: '#0072b2',
    green: '#009e73',
    orange: '#e69f00',
    vermillion: '#d55e00',
    purple: '#cc79a7',
    grey: '#8c959f',
    dropped: 'rgba(213, 94, 0, 0.35)',
  };

  const state = {
    texts: {},
    missingTexts: new Set(),
    lang: 'zh-CN',
    memoryToken: '', // used only when sessionStorage is unavailable (e.g. blocked storage)
    session: 0, // bumped on sign-out, so answers to an earlier session's requests are dropped
    role: null, // 'admin' or 'agent', as the API answered for the token
    analytics: null,
    analyticsRequest: null,
    ticketsRequest: null,
    ticketStatus: 'open',
    tickets: [],
    ticketsTotal: 0,
    ticketsNextBefore: null, // the cursor of the next (older) page, null when the list is complete
    openTickets: null,
    charts: new Map(),
  };

  const $ = (selector, root = document) => root.querySelector(selector);
  const dom = {};

  // ---------------------------------------------------------------- texts and formatting

  function t(key, params) {
    let text = state.texts[key];
    if (typeof text !== 'string') {
      if (!state.missingTexts.has(key)) {
        state.missingTexts.add(key);
        console.warn(`admin: no text for ${key} in GET /api/ui (add it to intents/responses/ui.yml)`);
      }
      text = key;
    }
    if (!params) return text;
    return text.replace(/\{(\w+)\}/g, (match, name) => (params[name] === undefined || params[name] === null ? match : String(params[name])));
  }

  /** A label for an id (intent, reason, method) that falls back to the id itself when the texts do not know it. */
  function labelFor(prefix, id) {
    const key = `${prefix}${id}`;
    return typeof state.texts[key] === 'string' ? state.texts[key] : String(id);
  }

  function stageLabel(stage) {
    if (stage === 'started') return t('ui.admin.stage.started');
    if (stage === 'completed') return t('ui.admin.stage.completed');
    const step = /^step(\d+)$/.exec(String(stage));
    return step ? t('ui.admin.stage.step', { step: step[1] }) : String(stage);
  }

  const isNumber = (value) => typeof value === 'number' && Number.isFinite(value);
  const asText = (value) => (typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value));
  const asArray = (value) => (Array.isArray(value) ? value : []);
  const count = (value) => (isNumber(value) ? value : 0);

  let numberFormat = new Intl.NumberFormat('zh-CN');
  let dateTimeFormat = null;

  function setLanguage(lang) {
    state.lang = lang;
    document.documentElement.lang = lang;
    try {
      numberFormat = new Intl.NumberFormat(lang);
      dateTimeFormat = new Intl.DateTimeFormat(lang, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false });
    } catch {
      numberFormat = new Intl.NumberFormat();
      dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'short' });
    }
  }

  /** 0.88 → "88.0%"; null (nothing to divide by) → "—". */
  const formatPercent = (rate) => (isNumber(rate) ? `${(rate * 100).toFixed(1)}%` : NO_VALUE);
  const formatCount = (value) => (isNumber(value) ? numberFormat.format(value) : NO_VALUE);

  function formatTime(iso) {
    if (!iso) return NO_VALUE;
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? asText(iso) : dateTimeFormat.format(date);
  }

  /** Today's times as 14:05, older ones with their date: a transcript is mostly today's. */
  function formatClock(iso) {
    const date = new Date(asText(iso));
    if (!iso || Number.isNaN(date.getTime())) return formatTime(iso);
    if (isoDay(date) !== isoDay(new Date())) return formatTime(iso);
    const pad = (n) => String(n).padStart(2, '0');
    return `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  }

  function clockElement(iso, className) {
    const node = el('time', { className, text: formatClock(iso) });
    if (iso) {
      node.dateTime = asText(iso);
      node.title = formatTime(iso);
    }
    return node;
  }

  function timeElement(iso, className) {
    const node = el('time', { className, text: formatTime(iso) });
    if (iso) node.dateTime = asText(iso);
    return node;
  }

  /** Calendar date in the browser's time zone, YYYY-MM-DD. */
  function isoDay(date) {
    const pad = (n) => String(n).padStart(2, '0');
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  }

  function defaultRange() {
    const to = new Date();
    const from = new Date(to);
    from.setDate(from.getDate() - (DEFAULT_DAYS - 1)); // inclusive: today and the 29 days before
    return { from: isoDay(from), to: isoDay(to) };
  }

  // ---------------------------------------------------------------- DOM helpers

  function el(tag, options = {}, children = []) {
    const node = document.createElement(tag);
    if (options.className) node.className = options.className;
    if (options.text !== undefined) node.textContent = options.text;
    if (options.testid) node.dataset.testid = options.testid;
    for (const [name, value] of Object.entries(options.attrs || {})) node.setAttribute(name, value);
    for (const child of children) if (child) node.append(child);
    return node;
  }

  function applyStaticTexts(root = document) {
    for (const node of root.querySelectorAll('[data-text]')) node.textContent = t(node.dataset.text);
    for (const node of root.querySelectorAll('[data-label]')) node.setAttribute('aria-label', t(node.dataset.label));
  }

  function showNotice(node, text, kind = 'error') {
    node.textContent = text;
    node.dataset.kind = kind;
    node.hidden = !text;
  }

  const hideNotice = (node) => showNotice(node, '');

  /** A plain table for the "show data" boxes under the charts. */
  function dataTable(headers, rows, numericFrom = 1) {
    const head = el('tr', {}, headers.map((header) => el('th', { text: header, attrs: { scope: 'col' } })));
    const body = rows.map((row) => el('tr', {}, row.map((cell, index) => el(index === 0 ? 'th' : 'td', {
      text: cell,
      className: index >= numericFrom ? 'num' : '',
      attrs: index === 0 ? { scope: 'row' } : {},
    }))));
    return el('table', { className: 'data' }, [el('thead', {}, [head]), el('tbody', {}, body)]);
  }

  // ---------------------------------------------------------------- token and requests

  function readToken() {
    try {
      return sessionStorage.getItem(TOKEN_KEY) || '';
    } catch {
      return state.memoryToken;
    }
  }

  function writeToken(token) {
    state.memoryToken = token;
    try {
      if (token) sessionStorage.setItem(TOKEN_KEY, token);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      // storage blocked: the token lives in memory until the tab closes
    }
  }

  const ROLE_KEY = 'wub.admin.role';

  function readRoleHint() {
    try {
      return sessionStorage.getItem(ROLE_KEY) || '';
    } catch {
      return '';
    }
  }

  function writeRoleHint(role) {
    try {
      if (role) sessionStorage.setItem(ROLE_KEY, role);
      else sessionStorage.removeItem(ROLE_KEY);
    } catch {
      // storage blocked: the next sign-in asks the agent API first
    }
  }

  class HttpError extends Error {
    constructor(method, path, status, code, serverMessage) {
      super(`Request failed with ${status}${code ? ` ${code}` : ''}: ${method} ${path}${serverMessage ? ` (${serverMessage})` : ''}`);
      this.name = 'HttpError';
      this.status = status;
      this.code = code;
      this.serverMessage = serverMessage;
    }
  }

  class AuthError extends HttpError {
    constructor(method, path, status) {
      super(method, path, status, 'unauthorized', '');
      this.name = 'AuthError';
    }
  }

  class NetworkError extends Error {
    constructor(method, path, cause) {
      super(`Network error: ${method} ${path}`);
      this.name = 'NetworkError';
      this.cause = cause;
    }
  }

  const isAbort = (error) => error && error.name === 'AbortError';

  function describeError(error) {
    if (error instanceof NetworkError) return t('ui.admin.error.network');
    if (error instanceof HttpError) return t('ui.admin.error.server', { status: error.status, message: error.serverMessage || error.code || '' });
    return t('ui.admin.error.generic');
  }

  /**
   * An /api/admin or /api/agent call with the token. A 401 or 403 signs out and asks for the token
   * again, unless `probe` (finding out which kind of token this is).
   */
  async function apiRequest(method, path, { body, signal, as = 'json', probe = false } = {}) {
    const token = readToken();
    if (!token) throw new AuthError(method, path, 401);
    const session = state.session;
    const headers = { Authorization: `Bearer ${token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
        signal,
      });
    } catch (error) {
      if (isAbort(error)) throw error;
      throw new NetworkError(method, path, error);
    }
    if (response.status === 401 || response.status === 403) {
      if (!probe && session === state.session) signOut('ui.admin.login.rejected');
      throw new AuthError(method, path, response.status);
    }
    if (!response.ok) {
      const data = await response.json().catch(() => null);
      const error = data && typeof data.error === 'object' && data.error ? data.error : {};
      throw new HttpError(method, path, response.status, asText(error.code), asText(error.message));
    }
    if (as === 'none' || response.status === 204) return null;
    return as === 'blob' ? response.blob() : response.json();
  }

  const adminRequest = apiRequest;

  async function loadTexts() {
    const response = await fetch('/api/ui/dashboard', { cache: 'no-store', credentials: 'omit' });
    if (!response.ok) throw new HttpError('GET', '/api/ui/dashboard', response.status, '', '');
    const data = await response.json();
    if (!data || typeof data.texts !== 'object' || !data.texts) throw new Error('GET /api/ui/dashboard: no texts');
    return data.texts;
  }

  // ---------------------------------------------------------------- session

  function showLogin(noticeKey) {
    dom.dashboard.hidden = true;
    dom.inbox.hidden = true;
    dom.signOut.hidden = true;
    dom.who.hidden = true;
    dom.loginForm.removeAttribute('aria-busy');
    const submit = $('button[type="submit"]', dom.loginForm);
    submit.disabled = false;
    submit.textContent = t('ui.admin.login.submit');
    dom.login.hidden = false;
    if (noticeKey) showNotice(dom.loginNotice, t(noticeKey), noticeKey === 'ui.admin.signedOut' ? 'info' : 'error');
    else hideNotice(dom.loginNotice);
    dom.tokenInput.value = '';
    dom.tokenInput.focus();
  }

  function showWho(text) {
    dom.who.textContent = text;
    dom.who.hidden = !text;
    dom.signOut.hidden = false;
  }

  function showDashboard() {
    state.role = 'admin';
    dom.login.hidden = true;
    dom.inbox.hidden = true;
    dom.dashboard.hidden = false;
    showWho(t('ui.admin.who.admin'));
    hideNotice(dom.loginNotice);
    loadAnalytics();
    loadTickets(state.ticketStatus);
    loadAgents();
  }

  /**
   * Which kind of token this is, asked of the API: the admin token opens the admin API, an agent's
   * token the agent API. Neither: signed out with a notice.
   */
  async function signIn() {
    const session = state.session;
    dom.loginForm.setAttribute('aria-busy', 'true');
    const submit = $('button[type="submit"]', dom.loginForm);
    submit.disabled = true;
    submit.textContent = t('ui.admin.login.checking');
    const probe = async (path) => {
      try {
        return { data: await apiRequest('GET', path, { probe: true }) };
      } catch (error) {
        return { error };
      }
    };
    // Agents sign in far more often than the admin: ask the agent API first (each wrong guess is one
    // refused request in the console), or whichever API this tab's token opened last time.
    const order = readRoleHint() === 'admin' ? ['admin', 'agent'] : ['agent', 'admin'];
    const paths = { admin: '/api/admin/agents', agent: '/api/agent/conversations?status=waiting' };
    const answers = {};
    for (const role of order) {
      answers[role] = await probe(paths[role]);
      if (session !== state.session) return;
      if (answers[role].data) {
        writeRoleHint(role);
        if (role === 'admin') showDashboard();
        else void showInbox();
        return;
      }
    }
    const admin = answers.admin;
    const agent = answers.agent;
    const failure = [admin.error, agent.error].find((error) => !(error instanceof AuthError) && !(error instanceof HttpError && error.status === 404));
    if (failure) {
      // The server could not be asked (network, 5xx): say so rather than calling the token wrong.
      console.error(failure);
      signOut();
      showNotice(dom.loginNotice, describeError(failure));
      return;
    }
    signOut('ui.admin.login.rejected');
  }

  /** Forgets the token and everything shown with it (transcripts stay off screen once signed out). */
  function signOut(noticeKey) {
    state.session += 1;
    state.role = null;
    writeToken('');
    writeRoleHint('');
    stopInbox();
    resetAgentsPanel();
    if (state.analyticsRequest) state.analyticsRequest.abort();
    if (state.ticketsRequest) state.ticketsRequest.abort();
    state.analytics = null;
    state.tickets = [];
    state.ticketsNextBefore = null;
    state.openTickets = null;
    for (const chart of state.charts.values()) chart.destroy();
    state.charts.clear();
    dom.unansweredRows.replaceChildren();
    dom.ticketList.replaceChildren();
    renderUnansweredScope(null);
    renderTicketsFooter();
    for (const box of document.querySelectorAll('.chart-data .table-wrap')) box.replaceChildren();
    renderCards(null);
    renderHandoffs(null);
    dom.exportButton.disabled = true;
    for (const node of [dom.dashboardNotice, dom.ticketsNotice, dom.exportNotice]) hideNotice(node);
    showLogin(noticeKey);
  }

  // ---------------------------------------------------------------- date range

  function readRangeInputs() {
    const from = dom.rangeFrom.value;
    const to = dom.rangeTo.value;
    return { from: DAY_PATTERN.test(from) ? from : '', to: DAY_PATTERN.test(to) ? to : '' };
  }

  function rangeQuery(range) {
    const query = new URLSearchParams();
    if (range.from) query.set('from', range.from);
    if (range.to) query.set('to', range.to);
    const text = query.toString();
    return text ? `?${text}` : '';
  }

  /** Keeps the chosen range in the address, so a reload or a shared link shows the same days. */
  function rememberRange(range) {
    const url = new URL(window.location.href);
    url.search = rangeQuery(range);
    window.history.replaceState(null, '', url.href);
  }

  function initialRange() {
    const query = new URLSearchParams(window.location.search);
    const fallback = defaultRange();
    const from = query.get('from');
    const to = query.get('to');
    return {
      from: from && DAY_PATTERN.test(from) ? from : fallback.from,
      to: to && DAY_PATTERN.test(to) ? to : fallback.to,
    };
  }

  // ---------------------------------------------------------------- analytics

  async function loadAnalytics() {
    const range = readRangeInputs();
    if (range.from && range.to && range.from > range.to) {
      showNotice(dom.dashboardNotice, t('ui.admin.error.badRange'));
      dom.rangeFrom.focus();
      return;
    }
    hideNotice(dom.dashboardNotice);
    if (state.analyticsRequest) state.analyticsRequest.abort();
    const request = new AbortController();
    state.analyticsRequest = request;
    dom.dashboard.setAttribute('aria-busy', 'true');
    dom.rangeStatus.textContent = t('ui.admin.loading');
    try {
      const data = await adminRequest('GET', `/api/admin/analytics${rangeQuery(range)}`, { signal: request.signal });
      if (request.signal.aborted) return;
      state.analytics = data;
      const shown = data && data.range ? data.range : range;
      if (shown.from) dom.rangeFrom.value = shown.from;
      if (shown.to) dom.rangeTo.value = shown.to;
      rememberRange({ from: dom.rangeFrom.value, to: dom.rangeTo.value });
      dom.rangeStatus.textContent = shown.from && shown.to ? t('ui.admin.range.showing', { from: shown.from, to: shown.to }) : '';
      renderAnalytics(data || {});
    } catch (error) {
      if (isAbort(error) || error instanceof AuthError) return;
      console.error(error);
      dom.rangeStatus.textContent = '';
      showNotice(dom.dashboardNotice, describeError(error));
    } finally {
      if (state.analyticsRequest === request) {
        state.analyticsRequest = null;
        dom.dashboard.removeAttribute('aria-busy');
      }
    }
  }

  function renderAnalytics(data) {
    renderCards(data.totals || {});
    renderHandoffs(data.handoffs && typeof data.handoffs === 'object' ? data.handoffs : null);
    renderChartsOrNotice(data);
    renderUnanswered(asArray(data.unanswered));
    renderUnansweredScope(data.unansweredMessages);
    dom.exportButton.disabled = false;
  }

  function renderChartsOrNotice(data) {
    if (typeof window.Chart !== 'function') {
      showNotice(dom.dashboardNotice, t('ui.admin.error.chartsUnavailable'), 'info');
    } else {
      configureChartDefaults();
    }
    renderRatesChart(asArray(data.daily));
    renderFunnelChart(asArray(data.funnel));
    renderVerificationChart(asArray(data.verification));
    renderIntentsChart(asArray(data.topIntents));
  }

  // ---------------------------------------------------------------- cards

  const CARDS = [
    {
      id: 'deflection',
      value: (totals) => formatPercent(totals.deflectionRate),
      detail: (totals) => t('ui.admin.card.deflection.detail', { engaged: formatCount(totals.engaged), handedOff: formatCount(totals.handedOff) }),
    },
    {
      id: 'resolution',
      value: (totals) => formatPercent(totals.resolutionRate),
      detail: (totals) => t('ui.admin.card.resolution.detail', { resolved: formatCount(totals.resolved), engaged: formatCount(totals.engaged) }),
    },
    {
      id: 'satisfaction',
      value: (totals) => formatPercent(totals.ratings && totals.ratings.satisfaction),
      detail: (totals) => {
        const ratings = totals.ratings || {};
        return t('ui.admin.card.satisfaction.detail', { helpful: formatCount(ratings.helpful), notHelpful: formatCount(ratings.notHelpful) });
      },
    },
    {
      id: 'fallback',
      value: (totals) => formatPercent(totals.fallbackRate),
      detail: (totals) => t('ui.admin.card.fallback.detail', { fallbacks: formatCount(totals.fallbacks), messages: formatCount(totals.messages) }),
    },
    {
      id: 'notCovered',
      value: (totals) => formatCount(totals.questions && totals.questions.notCovered),
      detail: (totals) => t('ui.admin.card.notCovered.detail', { answered: formatCount(totals.questions && totals.questions.answered) }),
    },
    {
      id: 'conversations',
      value: (totals) => formatCount(totals.conversations),
      detail: (totals) => t('ui.admin.card.conversations.detail', { engaged: formatCount(totals.engaged) }),
    },
    {
      id: 'openTickets',
      value: () => formatCount(state.openTickets),
      detail: () => t('ui.admin.card.openTickets.detail'),
    },
  ];

  function buildCards() {
    dom.cards.replaceChildren(...CARDS.map((card) => el('article', { className: 'card', attrs: { 'data-card': card.id } }, [
      el('h2', { className: 'card-label', text: t(`ui.admin.card.${card.id}`) }),
      el('p', { className: 'card-value', text: NO_VALUE }),
      el('p', { className: 'card-detail muted' }),
    ])));
  }

  /** totals null: blank every card (signed out). */
  function renderCards(totals) {
    for (const card of CARDS) {
      const node = $(`[data-card="${card.id}"]`, dom.cards);
      if (!node) continue;
      const live = totals !== null || card.id === 'openTickets';
      $('.card-value', node).textContent = live ? card.value(totals || {}) : NO_VALUE;
      $('.card-detail', node).textContent = live ? card.detail(totals || {}) : '';
    }
  }

  function setOpenTickets(value) {
    state.openTickets = value;
    const node = $('[data-card="openTickets"] .card-value', dom.cards);
    if (node) node.textContent = formatCount(value);
  }

  // ---------------------------------------------------------------- live handoff figures

  const formatSeconds = (value) => (isNumber(value) ? formatDuration(value * 1000) : NO_VALUE);

  /** handoffs null: nothing to show (signed out, or a server without live handoff). */
  function renderHandoffs(handoffs) {
    dom.handoffsPanel.hidden = !handoffs;
    const stats = handoffs ? [
      ['requested', formatCount(handoffs.requested)],
      ['resolvedByAgent', formatCount(handoffs.resolvedByAgent)],
      ['handedBack', formatCount(handoffs.handedBack)],
      ['userLeft', formatCount(handoffs.userLeft)],
      ['medianWait', formatSeconds(handoffs.medianWaitSeconds)],
      ['medianFirstReply', formatSeconds(handoffs.medianFirstReplySeconds)],
    ] : [];
    dom.handoffStats.replaceChildren(...stats.map(([key, value]) => el('div', { className: 'stat', attrs: { 'data-stat': key } }, [
      el('dt', { text: t(`ui.admin.handoffs.${key}`) }),
      el('dd', { text: value }),
    ])));
    const agents = handoffs ? asArray(handoffs.perAgent).filter(Boolean) : [];
    const cell = (labelKey, text, className = '') => el('td', { className, text, attrs: { 'data-label': t(labelKey) } });
    dom.handoffAgentRows.replaceChildren(...agents.map((agent) => el('tr', {}, [
      cell('ui.admin.handoffs.col.agent', asText(agent.name), 'user-text'),
      cell('ui.admin.handoffs.col.claimed', formatCount(agent.claimed), 'num'),
      cell('ui.admin.handoffs.col.resolved', formatCount(agent.resolved), 'num'),
      cell('ui.admin.handoffs.col.messages', formatCount(agent.messages), 'num'),
    ])));
    dom.handoffAgentsTable.hidden = agents.length === 0;
    dom.handoffAgentsEmpty.hidden = agents.length > 0;
  }

  // ---------------------------------------------------------------- charts

  let chartDefaultsSet = false;
  function configureChartDefaults() {
    if (chartDefaultsSet) return;
    chartDefaultsSet = true;
    const { Chart } = window;
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.font.size = 13;
    Chart.defaults.color = '#424a53';
    Chart.defaults.borderColor = '#e4e7eb';
    Chart.defaults.maintainAspectRatio = false;
    Chart.defaults.plugins.legend.labels.boxWidth = 14;
    if (window.matchMedia('(prefers-reduced-motion: reduce)').matches) Chart.defaults.animation = false;
  }

  /**
   * Draws one chart panel: the chart (when Chart.js loaded and there is data), the empty message
   * otherwise, and the numbers as a table under "show data" either way.
   */
  function drawPanel(panel, name, { hasData, config, table, height }) {
    const old = state.charts.get(name);
    if (old) old.destroy();
    state.charts.delete(name);
    const box = $('.chart-box', panel);
    const empty = $('.empty', panel);
    const data = $('.chart-data', panel);
    $('.table-wrap', panel).replaceChildren(hasData ? table() : '');
    data.hidden = !hasData;
    empty.hidden = hasData;
    panel.dataset.state = hasData ? 'ready' : 'empty';
    const canDraw = hasData && typeof window.Chart === 'function';
    box.hidden = !canDraw;
    if (!canDraw) return;
    if (height) box.style.height = `${height}px`;
    state.charts.set(name, new window.Chart($('canvas', box), config()));
  }

  const percentPoint = (rate) => (isNumber(rate) ? Math.round(rate * 1000) / 10 : null);
  const shortDay = (day) => (DAY_PATTERN.test(asText(day)) ? day.slice(5) : asText(day));

  function renderRatesChart(daily) {
    const days = daily.filter((row) => row && row.day);
    drawPanel(dom.ratesPanel, 'rates', {
      hasData: days.length > 0,
      config: () => ({
        type: 'line',
        data: {
          labels: days.map((row) => shortDay(row.day)),
          datasets: [
            { label: t('ui.admin.chart.rates.deflection'), data: days.map((row) => percentPoint(row.deflectionRate)), borderColor: COLORS.blue, backgroundColor: COLORS.blue },
            { label: t('ui.admin.chart.rates.resolution'), data: days.map((row) => percentPoint(row.resolutionRate)), borderColor: COLORS.green, backgroundColor: COLORS.green },
          ].map((dataset) => ({ ...dataset, spanGaps: false, tension: 0.25, pointRadius: days.length > 45 ? 0 : 3, borderWidth: 2 })),
        },
        options: {
          interaction: { mode: 'index', intersect: false },
          scales: {
            y: { min: 0, max: 100, ticks: { callback: (value) => `${value}%` } },
            x: { ticks: { autoSkip: true, maxRotation: 0 } },
          },
          plugins: {
            tooltip: {
              callbacks: {
                title: (items) => (items.length ? asText(days[items[0].dataIndex].day) : ''),
                label: (item) => `${item.dataset.label}: ${formatPercent(item.raw === null ? null : item.raw / 100)}`,
                footer: (items) => {
                  if (!items.length) return '';
                  const row = days[items[0].dataIndex];
                  return t('ui.admin.chart.rates.detail', { conversations: formatCount(row.conversations), handedOff: formatCount(row.handedOff), resolved: formatCount(row.resolved) });
                },
              },
            },
          },
        },
      }),
      table: () => dataTable(
        [t('ui.admin.chart.rates.day'), t('ui.admin.chart.rates.conversations'), t('ui.admin.chart.rates.deflection'), t('ui.admin.chart.rates.resolution')],
        days.map((row) => [asText(row.day), formatCount(row.conversations), formatPercent(row.deflectionRate), formatPercent(row.resolutionRate)]),
      ),
    });
  }

  function renderFunnelChart(funnel) {
    const stages = funnel.filter((row) => row && row.stage);
    const started = stages.length ? count(stages[0].reached) : 0;
    // The bar's whole length is "reached"; its light end is the part that stopped at this stage.
    const dropped = stages.map((row) => Math.min(count(row.droppedHere), count(row.reached)));
    const continued = stages.map((row, index) => count(row.reached) - dropped[index]);
    const dropRate = (row) => (count(row.reached) > 0 ? count(row.droppedHere) / count(row.reached) : null);
    drawPanel(dom.funnelPanel, 'funnel', {
      hasData: stages.some((row) => count(row.reached) > 0),
      height: Math.max(260, stages.length * 34 + 70),
      config: () => ({
        type: 'bar',
        data: {
          labels: stages.map((row) => stageLabel(row.stage)),
          datasets: [
            { label: t('ui.admin.chart.funnel.continued'), data: continued, backgroundColor: COLORS.blue },
            { label: t('ui.admin.chart.funnel.dropped'), data: dropped, backgroundColor: COLORS.dropped, borderColor: COLORS.vermillion, borderWidth: 1 },
          ],
        },
        options: {
          indexAxis: 'y',
          interaction: { mode: 'index', axis: 'y', intersect: false },
          scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true } },
          plugins: {
            tooltip: {
              callbacks: {
                label: (item) => `${item.dataset.label}: ${formatCount(item.raw)}`,
                footer: (items) => {
                  if (!items.length) return '';
                  const row = stages[items[0].dataIndex];
                  return [
                    `${t('ui.admin.chart.funnel.reached')}: ${formatCount(row.reached)}`,
                    `${t('ui.admin.chart.funnel.dropRate')}: ${formatPercent(dropRate(row))}`,
                  ];
                },
              },
            },
          },
        },
      }),
      table: () => dataTable(
        [t('ui.admin.chart.funnel.stage'), t('ui.admin.chart.funnel.reached'), t('ui.admin.chart.funnel.ofStarted'), t('ui.admin.chart.funnel.dropped'), t('ui.admin.chart.funnel.dropRate')],
        stages.map((row) => [
          stageLabel(row.stage),
          formatCount(row.reached),
          formatPercent(started > 0 ? count(row.reached) / started : null),
          formatCount(row.droppedHere),
          formatPercent(dropRate(row)),
        ]),
      ),
    });
  }

  function renderVerificationChart(verification) {
    const methods = verification.filter((row) => row && row.method);
    // The API counts every failure in `failed`, including those then handed to a human; the bar
    // stacks failures that stayed with the bot and handoffs separately, so nothing is counted twice.
    const series = [
      { key: 'passed', color: COLORS.green, value: (row) => count(row.passed) },
      { key: 'failed', color: COLORS.vermillion, value: (row) => Math.max(0, count(row.failed) - count(row.handedOff)) },
      { key: 'handedOff', color: COLORS.purple, value: (row) => count(row.handedOff) },
    ];
    drawPanel(dom.verificationPanel, 'verification', {
      hasData: methods.some((row) => count(row.attempted) + count(row.passed) + count(row.failed) + count(row.handedOff) > 0),
      config: () => ({
        type: 'bar',
        data: {
          // Two-line labels: the method, then how many attempts the bar stands for.
          labels: methods.map((row) => [labelFor('ui.admin.method.', row.method), t('ui.admin.chart.verification.attemptedCount', { attempted: formatCount(row.attempted) })]),
          datasets: series.map(({ key, color, value }) => ({
            label: t(`ui.admin.chart.verification.${key}`),
            data: methods.map(value),
            backgroundColor: color,
            maxBarThickness: 64,
          })),
        },
        options: {
          interaction: { mode: 'index', intersect: false },
          scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
          plugins: {
            tooltip: {
              callbacks: {
                title: (items) => (items.length ? labelFor('ui.admin.method.', methods[items[0].dataIndex].method) : ''),
                label: (item) => `${item.dataset.label}: ${formatCount(item.raw)}`,
                footer: (items) => (items.length ? `${t('ui.admin.chart.verification.attempted')}: ${formatCount(methods[items[0].dataIndex].attempted)}` : ''),
              },
            },
          },
        },
      }),
      table: () => dataTable(
        [t('ui.admin.chart.verification.method'), t('ui.admin.chart.verification.attempted'), ...series.map(({ key }) => t(`ui.admin.chart.verification.${key}`))],
        methods.map((row) => [labelFor('ui.admin.method.', row.method), formatCount(row.attempted), ...series.map(({ value }) => formatCount(value(row)))]),
      ),
    });
  }

  function renderIntentsChart(topIntents) {
    const intents = topIntents.filter((row) => row && row.intent);
    drawPanel(dom.intentsPanel, 'intents', {
      hasData: intents.length > 0,
      height: Math.max(220, intents.length * 30 + 50),
      config: () => ({
        type: 'bar',
        data: {
          labels: intents.map((row) => labelFor('ui.admin.intent.', row.intent)),
          datasets: [{ label: t('ui.admin.chart.intents.count'), data: intents.map((row) => count(row.count)), backgroundColor: COLORS.blue, maxBarThickness: 22 }],
        },
        options: {
          indexAxis: 'y',
          scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
          plugins: {
            legend: { display: false },
            tooltip: {
              callbacks: {
                title: (items) => {
                  if (!items.length) return '';
                  const row = intents[items[0].dataIndex];
                  return `${labelFor('ui.admin.intent.', row.intent)} (${row.intent})`;
                },
                label: (item) => `${item.dataset.label}: ${formatCount(item.raw)}`,
              },
            },
          },
        },
      }),
      table: () => dataTable(
        [t('ui.admin.chart.intents.intent'), t('ui.admin.chart.intents.id'), t('ui.admin.chart.intents.count')],
        intents.map((row) => [labelFor('ui.admin.intent.', row.intent), asText(row.intent), formatCount(row.count)]),
        2,
      ),
    });
  }

  // ---------------------------------------------------------------- unanswered questions

  function intentCell(intent) {
    if (!intent) return document.createTextNode(NO_VALUE);
    return el('span', { className: 'intent' }, [
      el('span', { text: labelFor('ui.admin.intent.', intent) }),
      el('code', { className: 'intent-id', text: asText(intent) }),
    ]);
  }

  function examplesCell(examples) {
    const items = examples.map((example) => el('li', { text: asText(example) }));
    const list = el('ul', { className: 'examples' }, items.slice(0, EXAMPLES_SHOWN));
    if (items.length <= EXAMPLES_SHOWN) return list;
    const rest = el('details', { className: 'more-examples' }, [
      el('summary', { text: t('ui.admin.unanswered.moreExamples', { count: items.length - EXAMPLES_SHOWN }) }),
      el('ul', { className: 'examples' }, items.slice(EXAMPLES_SHOWN)),
    ]);
    return el('div', {}, [list, rest]);
  }

  function renderUnanswered(rows) {
    const cell = (labelKey, content, className = '') => {
      const td = el('td', { className, attrs: { 'data-label': t(labelKey) } });
      td.append(content);
      return td;
    };
    dom.unansweredRows.replaceChildren(...rows.filter(Boolean).map((row) => el('tr', { testid: 'admin-unanswered-row' }, [
      cell('ui.admin.unanswered.col.text', el('span', { className: 'user-text', text: asText(row.text) }), 'question'),
      cell('ui.admin.unanswered.col.count', formatCount(row.count), 'num'),
      cell('ui.admin.unanswered.col.examples', examplesCell(asArray(row.examples))),
      cell('ui.admin.unanswered.col.lastAt', timeElement(row.lastAt)),
      cell('ui.admin.unanswered.col.guess', intentCell(row.guess)),
    ])));
    dom.unansweredEmpty.hidden = rows.length > 0;
    dom.unansweredTable.hidden = rows.length === 0;
  }

  /** Past a limit the server groups only the newest unanswered messages: say so, with both numbers. */
  function renderUnansweredScope(scope) {
    const capped = scope && isNumber(scope.total) && isNumber(scope.considered) && scope.considered < scope.total;
    dom.unansweredCapped.hidden = !capped;
    dom.unansweredCapped.textContent = capped ? t('ui.admin.unanswered.capped', { considered: formatCount(scope.considered), total: formatCount(scope.total) }) : '';
  }

  async function exportUnanswered() {
    const range = (state.analytics && state.analytics.range) || readRangeInputs();
    const button = dom.exportButton;
    hideNotice(dom.exportNotice);
    button.disabled = true;
    button.textContent = t('ui.admin.unanswered.exporting');
    try {
      const blob = await adminRequest('GET', `/api/admin/unanswered.jsonl${rangeQuery(range)}`, { as: 'blob' });
      const url = URL.createObjectURL(blob);
      const link = el('a', { attrs: { href: url, download: `unanswered-${range.from || 'start'}-${range.to || 'today'}.jsonl` } });
      link.hidden = true;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000); // give the browser time to start the download
    } catch (error) {
      if (error instanceof AuthError) return;
      console.error(error);
      showNotice(dom.exportNotice, `${t('ui.admin.unanswered.exportFailed')} ${describeError(error)}`);
    } finally {
      button.textContent = t('ui.admin.unanswered.export');
      button.disabled = !readToken();
    }
  }

  // ---------------------------------------------------------------- tickets

  /** The first page of tickets with this status (newest first); `more` reads the next, older page. */
  async function loadTickets(status, { more = false } = {}) {
    state.ticketStatus = status;
    for (const button of dom.ticketFilter.querySelectorAll('button')) button.setAttribute('aria-pressed', String(button.dataset.status === status));
    if (state.ticketsRequest) state.ticketsRequest.abort();
    const request = new AbortController();
    state.ticketsRequest = request;
    hideNotice(dom.ticketsNotice);
    dom.ticketsSection.setAttribute('aria-busy', 'true');
    dom.ticketsMore.disabled = true;
    const query = new URLSearchParams({ status, limit: String(TICKETS_PER_PAGE) });
    if (more && state.ticketsNextBefore !== null) query.set('before', String(state.ticketsNextBefore));
    try {
      const data = await adminRequest('GET', `/api/admin/tickets?${query}`, { signal: request.signal });
      if (request.signal.aborted) return;
      const page = asArray(data && data.tickets).filter((ticket) => ticket && ticket.id !== undefined);
      state.tickets = more ? state.tickets.concat(page) : page;
      state.ticketsTotal = isNumber(data && data.total) ? data.total : state.tickets.length;
      state.ticketsNextBefore = data && isNumber(data.nextBefore) ? data.nextBefore : null;
      if (more) {
        dom.ticketList.append(...page.map(ticketRow));
        renderTicketsFooter();
      } else {
        renderTickets();
      }
      if (status === 'open') setOpenTickets(state.ticketsTotal);
      else void refreshOpenTickets(request.signal);
    } catch (error) {
      if (isAbort(error) || error instanceof AuthError) return;
      console.error(error);
      showNotice(dom.ticketsNotice, describeError(error));
    } finally {
      if (state.ticketsRequest === request) {
        state.ticketsRequest = null;
        dom.ticketsSection.removeAttribute('aria-busy');
        dom.ticketsMore.disabled = false;
      }
    }
  }

  /** The "open tickets" card counts open tickets even while the list shows closed ones. */
  async function refreshOpenTickets(signal) {
    try {
      const data = await adminRequest('GET', '/api/admin/tickets?status=open&limit=1', { signal });
      if (data && isNumber(data.total)) setOpenTickets(data.total);
    } catch (error) {
      if (!isAbort(error) && !(error instanceof AuthError)) console.error(error);
    }
  }

  function renderTickets() {
    dom.ticketList.replaceChildren(...state.tickets.map(ticketRow));
    const empty = state.tickets.length === 0;
    dom.ticketsEmpty.hidden = !empty;
    if (empty) dom.ticketsEmpty.textContent = t(`ui.admin.tickets.empty.${state.ticketStatus}`);
    renderTicketsFooter();
  }

  /** How many of how many are listed, and a button for the older ones while there are more. */
  function renderTicketsFooter() {
    const partial = state.ticketsNextBefore !== null;
    dom.ticketsShown.hidden = !partial;
    dom.ticketsShown.textContent = partial ? t('ui.admin.tickets.shown', { shown: formatCount(state.tickets.length), total: formatCount(state.ticketsTotal) }) : '';
    dom.ticketsMore.hidden = !partial;
  }

  function metaItem(labelKey, value) {
    return el('div', { className: 'meta-item' }, [el('dt', { text: t(labelKey) }), el('dd', {}, [value])]);
  }

  function ticketRow(ticket) {
    const id = asText(ticket.id);
    const transcript = asArray(ticket.transcript).filter(Boolean);
    const step = Number(ticket.step);
    const row = el('li', { className: 'ticket', testid: 'admin-ticket', attrs: { 'data-ticket-id': id } });

    const head = el('div', { className: 'ticket-head' }, [
      el('h3', { className: 'ticket-reason', text: labelFor('ui.admin.reason.', asText(ticket.reason)) }),
      el('span', { className: 'ticket-number muted', text: t('ui.admin.ticket.number', { id }) }),
      el('span', { className: 'ticket-status', attrs: { tabindex: '-1' } }),
      el('button', { className: 'button button-small ticket-close', testid: 'admin-close', text: t('ui.admin.ticket.close'), attrs: { type: 'button' } }),
    ]);

    const meta = el('dl', { className: 'ticket-meta' }, [
      metaItem('ui.admin.ticket.step', document.createTextNode(step > 0 ? t('ui.admin.stage.step', { step }) : t('ui.admin.ticket.noStep'))),
      metaItem('ui.admin.ticket.createdAt', timeElement(ticket.createdAt)),
      metaItem('ui.admin.ticket.conversation', el('code', { className: 'conversation-id', text: asText(ticket.conversationId) })),
    ]);

    const lines = transcript.map((line) => {
      const role = line.role === 'user' || line.role === 'agent' ? line.role : 'bot';
      return el('li', { className: `line line-${role}`, attrs: { 'data-role': role } }, [
        el('span', { className: 'line-role', text: t(`ui.admin.ticket.role.${role}`) }),
        timeElement(line.at, 'line-time muted'),
        el('p', { className: 'line-text user-text', text: asText(line.text) }),
      ]);
    });
    const details = el('details', { className: 'transcript', testid: 'admin-transcript' }, [
      el('summary', { text: t('ui.admin.ticket.transcript', { count: transcript.length }) }),
      lines.length ? el('ol', { className: 'lines' }, lines) : el('p', { className: 'muted', text: t('ui.admin.ticket.transcriptEmpty') }),
      ticket.state ? el('p', { className: 'ticket-state muted small' }, [
        document.createTextNode(`${t('ui.admin.ticket.state')}: `),
        el('code', { text: asText(ticket.state) }),
      ]) : null,
    ]);

    const error = el('p', { className: 'notice ticket-error', attrs: { role: 'alert' } });
    error.hidden = true;

    row.append(head, meta, details, error);
    updateTicketRow(row, ticket);
    $('.ticket-close', row).addEventListener('click', () => closeTicket(row, ticket.id));
    return row;
  }

  function updateTicketRow(row, ticket) {
    const closed = ticket.status === 'closed';
    row.dataset.status = closed ? 'closed' : 'open';
    $('.ticket-status', row).textContent = closed
      ? (ticket.closedAt ? t('ui.admin.ticket.closedAt', { time: formatTime(ticket.closedAt) }) : t('ui.admin.ticket.status.closed'))
      : t('ui.admin.ticket.status.open');
    $('.ticket-close', row).hidden = closed;
  }

  async function closeTicket(row, id) {
    const button = $('.ticket-close', row);
    const error = $('.ticket-error', row);
    hideNotice(error);
    button.disabled = true;
    button.textContent = t('ui.admin.ticket.closing');
    try {
      const data = await adminRequest('POST', `/api/admin/tickets/${encodeURIComponent(id)}/close`, { body: {} });
      const ticket = data && data.ticket ? data.ticket : { id, status: 'closed', closedAt: new Date().toISOString() };
      const index = state.tickets.findIndex((candidate) => candidate.id === id);
      const wasOpen = index >= 0 && state.tickets[index].status === 'open';
      if (index >= 0) state.tickets[index] = { ...state.tickets[index], ...ticket };
      updateTicketRow(row, index >= 0 ? state.tickets[index] : ticket);
      if (wasOpen && isNumber(state.openTickets)) setOpenTickets(Math.max(0, state.openTickets - 1));
      $('.ticket-status', row).focus(); // the button is gone; keep the keyboard user on this row
    } catch (failure) {
      if (failure instanceof AuthError) return;
      console.error(failure);
      showNotice(error, t('ui.admin.ticket.closeFailed', { message: describeError(failure) }));
    } finally {
      button.disabled = false;
      button.textContent = t('ui.admin.ticket.close');
    }
  }

  // ---------------------------------------------------------------- agents (admin)

  const AGENT_CONFIRM_MS = 5000;
  const agentsState = { request: null, confirming: null };

  function resetAgentsPanel() {
    if (agentsState.request) agentsState.request.abort();
    agentsState.request = null;
    dom.agentRows.replaceChildren();
    hideToken();
    hideNotice(dom.agentsNotice);
  }

  async function loadAgents() {
    if (agentsState.request) agentsState.request.abort();
    const request = new AbortController();
    agentsState.request = request;
    try {
      const data = await apiRequest('GET', '/api/admin/agents', { signal: request.signal });
      if (request.signal.aborted) return;
      renderAgents(asArray(data && data.agents).filter((agent) => agent && agent.id !== undefined));
    } catch (error) {
      if (isAbort(error) || error instanceof AuthError) return;
      console.error(error);
      showNotice(dom.agentsNotice, describeError(error));
    } finally {
      if (agentsState.request === request) agentsState.request = null;
    }
  }

  function renderAgents(agents) {
    const cell = (labelKey, content) => {
      const td = el('td', { attrs: { 'data-label': t(labelKey) } });
      td.append(content);
      return td;
    };
    // Active agents first, each group newest first: the one just created is on top.
    const sorted = [...agents].sort((a, b) => Number(Boolean(a.disabled)) - Number(Boolean(b.disabled)) || asText(b.createdAt).localeCompare(asText(a.createdAt)));
    dom.agentRows.replaceChildren(...sorted.map((agent) => {
      const row = el('tr', { testid: 'admin-agent-row', attrs: { 'data-agent-id': asText(agent.id), 'data-disabled': String(Boolean(agent.disabled)) } });
      const button = el('button', { className: 'button button-small button-quiet agent-disable', testid: 'admin-agent-disable', text: t('ui.admin.agents.disable'), attrs: { type: 'button' } });
      button.hidden = Boolean(agent.disabled);
      button.addEventListener('click', () => disableAgent(agent, button));
      row.append(
        cell('ui.admin.agents.col.name', el('strong', { className: 'user-text', text: asText(agent.name) })),
        cell('ui.admin.agents.col.createdAt', timeElement(agent.createdAt)),
        cell('ui.admin.agents.col.lastSeenAt', agent.lastSeenAt ? timeElement(agent.lastSeenAt) : document.createTextNode(t('ui.admin.agents.neverSeen'))),
        cell('ui.admin.agents.col.status', el('span', { className: `badge ${agent.disabled ? 'badge-off' : 'badge-on'}`, text: t(agent.disabled ? 'ui.admin.agents.status.disabled' : 'ui.admin.agents.status.active') })),
        cell('ui.admin.agents.col.actions', button),
      );
      return row;
    }));
    dom.agentsEmpty.hidden = agents.length > 0;
    dom.agentsTable.hidden = agents.length === 0;
  }

  /** Disabling locks the agent out at once; the first click asks, a second within a few seconds does it. */
  async function disableAgent(agent, button) {
    if (agentsState.confirming !== button) {
      if (agentsState.confirming) resetConfirm(agentsState.confirming);
      agentsState.confirming = button;
      button.textContent = t('ui.admin.agents.disableConfirm', { name: asText(agent.name) });
      button.classList.add('button-danger');
      button.dataset.timer = String(setTimeout(() => resetConfirm(button), AGENT_CONFIRM_MS));
      return;
    }
    resetConfirm(button);
    button.disabled = true;
    hideNotice(dom.agentsNotice);
    try {
      await apiRequest('POST', `/api/admin/agents/${encodeURIComponent(agent.id)}/disable`, { body: {} });
      await loadAgents();
    } catch (error) {
      if (error instanceof AuthError) return;
      console.error(error);
      showNotice(dom.agentsNotice, t('ui.admin.agents.disableFailed', { message: describeError(error) }));
      button.disabled = false;
    }
  }

  function resetConfirm(button) {
    clearTimeout(Number(button.dataset.timer));
    button.classList.remove('button-danger');
    button.textContent = t('ui.admin.agents.disable');
    if (agentsState.confirming === button) agentsState.confirming = null;
  }

  async function createAgent() {
    const name = dom.agentName.value.trim();
    if (!name) {
      dom.agentName.focus();
      return;
    }
    const submit = $('button[type="submit"]', dom.agentForm);
    submit.disabled = true;
    hideNotice(dom.agentsNotice);
    try {
      const created = await apiRequest('POST', '/api/admin/agents', { body: { name } });
      dom.agentName.value = '';
      showToken(asText(created && created.name) || name, asText(created && created.token));
      void loadAgents();
    } catch (error) {
      if (error instanceof AuthError) return;
      console.error(error);
      const message = error instanceof HttpError && error.code === 'invalid_name' ? t('ui.admin.agents.invalidName') : describeError(error);
      showNotice(dom.agentsNotice, t('ui.admin.agents.createFailed', { message }));
    } finally {
      submit.disabled = false;
    }
  }

  /** The new agent's token, shown this once: the server keeps only its hash. */
  function showToken(name, token) {
    dom.tokenWarning.textContent = t('ui.admin.agents.token.warning', { name });
    dom.tokenValue.textContent = token;
    dom.tokenCopyStatus.textContent = '';
    dom.tokenBox.hidden = false;
    dom.tokenCopy.focus();
  }

  function hideToken() {
    dom.tokenValue.textContent = '';
    dom.tokenCopyStatus.textContent = '';
    dom.tokenBox.hidden = true;
  }

  async function copyToken() {
    const token = dom.tokenValue.textContent;
    if (!token) return;
    try {
      await navigator.clipboard.writeText(token);
      dom.tokenCopyStatus.textContent = t('ui.admin.agents.token.copied');
    } catch {
      // No clipboard access (permissions, an old browser): select it so Ctrl+C copies it.
      const range = document.createRange();
      range.selectNodeContents(dom.tokenValue);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      dom.tokenCopyStatus.textContent = t('ui.admin.agents.token.copyManually');
    }
  }

  function bindAgentsPanel() {
    dom.agentForm.addEventListener('submit', (event) => {
      event.preventDefault();
      void createAgent();
    });
    dom.tokenCopy.addEventListener('click', copyToken);
    dom.tokenDone.addEventListener('click', () => {
      hideToken();
      dom.agentName.focus();
    });
  }

  // ---------------------------------------------------------------- agent inbox

  const INBOX_TABS = ['waiting', 'mine', 'others', 'resolved'];
  const LIST_STATUSES = ['waiting', 'assigned', 'resolved'];
  const TYPING_SEND_MS = 3000; // the agent's typing goes to the widget at most this often
  const TYPING_SHOWN_MS = 5000; // the user's typing shows this long after their last keystroke
  const RETRY_FIRST_MS = 1000;
  const RETRY_MAX_MS = 30_000;
  const STREAM_SILENT_MS = 45_000; // the server says something every 15 s; silence this long = a dead connection
  const SHORT_ID = 6;

  const inbox = {
    me: null, // { id, name } of the signed-in agent
    tab: 'waiting',
    lists: { waiting: [], assigned: [], resolved: [] },
    listsRequest: null,
    listsTimer: null,
    openId: null,
    detail: null,
    lines: new Map(), // seq → line of the open conversation
    detailRequest: null,
    detailTimer: null,
    notice: null, // { key, params, kind } shown over the open conversation until another opens
    stream: null,
    streamTimer: null,
    watchdog: null,
    retryMs: RETRY_FIRST_MS,
    tick: null,
    userTypingTimer: null,
    lastTypingSent: 0,
    unread: new Set(),
    busy: false,
  };

  const agentToken = () => readToken();
  const shortId = (id) => asText(id).slice(-SHORT_ID);
  /** Held by the signed-in agent now (a resolved conversation still names who held it). */
  const isMine = (conversation) => Boolean(conversation && conversation.status === 'assigned' && conversation.agent && inbox.me && conversation.agent.id === inbox.me.id);

  function formatDuration(ms) {
    const seconds = Math.max(0, Math.floor(ms / 1000));
    if (seconds < 60) return t('ui.admin.duration.seconds', { s: seconds });
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return t('ui.admin.duration.minutes', { m: minutes, s: seconds % 60 });
    return t('ui.admin.duration.hours', { h: Math.floor(minutes / 60), m: minutes % 60 });
  }

  function waitedText(since) {
    const start = Date.parse(asText(since));
    return Number.isNaN(start) ? NO_VALUE : t('ui.admin.inbox.waited', { duration: formatDuration(Date.now() - start) });
  }

  /** An element whose "waited 3 min 12 s" the clock keeps current. */
  function waitedElement(since, className) {
    const node = el('span', { className, text: waitedText(since) });
    node.dataset.since = asText(since);
    return node;
  }

  function updateClocks() {
    for (const node of document.querySelectorAll('[data-since]')) node.textContent = waitedText(node.dataset.since);
  }

  function stepText(step) {
    const value = Number(step);
    return value > 0 ? t('ui.admin.stage.step', { step: value }) : t('ui.admin.ticket.noStep');
  }

  const agentLabel = (name) => t('ui.admin.inbox.agentName', { name: asText(name) });

  // --- start and stop

  async function showInbox() {
    state.role = 'agent';
    const session = state.session;
    dom.login.hidden = true;
    dom.dashboard.hidden = true;
    dom.inbox.hidden = false;
    hideNotice(dom.loginNotice);
    showWho('');
    try {
      const me = await apiRequest('GET', '/api/agent/me');
      if (session !== state.session) return;
      inbox.me = me && me.id ? { id: asText(me.id), name: asText(me.name) } : null;
    } catch (error) {
      if (error instanceof AuthError || session !== state.session) return;
      console.error(error); // without a name the inbox still works; "mine" is learnt from the first claim
    }
    showWho(inbox.me ? agentLabel(inbox.me.name) : t('ui.admin.who.agent'));
    selectTab(inbox.tab);
    void refreshLists();
    connectEvents();
    clearInterval(inbox.tick);
    inbox.tick = setInterval(updateClocks, 1000);
  }

  function stopInbox() {
    if (inbox.stream) inbox.stream.abort();
    inbox.stream = null;
    for (const timer of [inbox.streamTimer, inbox.watchdog, inbox.listsTimer, inbox.detailTimer, inbox.userTypingTimer]) clearTimeout(timer);
    clearInterval(inbox.tick);
    if (inbox.listsRequest) inbox.listsRequest.abort();
    if (inbox.detailRequest) inbox.detailRequest.abort();
    Object.assign(inbox, {
      me: null, lists: { waiting: [], assigned: [], resolved: [] }, listsRequest: null, openId: null, detail: null,
      lines: new Map(), detailRequest: null, notice: null, retryMs: RETRY_FIRST_MS, tick: null, lastTypingSent: 0, busy: false,
    });
    inbox.unread.clear();
    if (!dom.queueList) return;
    dom.queueList.replaceChildren();
    dom.convLines.replaceChildren();
    dom.replyInput.value = '';
    dom.suggestionText.textContent = '';
    dom.conversationBody.hidden = true;
    dom.conversationPlaceholder.hidden = false;
    hideNotice(dom.liveStatus);
    document.title = t('ui.admin.title');
  }

  // --- the lists

  function scheduleLists() {
    clearTimeout(inbox.listsTimer);
    inbox.listsTimer = setTimeout(() => void refreshLists(), 100);
  }

  async function refreshLists() {
    if (inbox.listsRequest) inbox.listsRequest.abort();
    const request = new AbortController();
    inbox.listsRequest = request;
    try {
      const results = await Promise.all(LIST_STATUSES.map((status) => apiRequest('GET', `/api/agent/conversations?status=${status}`, { signal: request.signal })));
      if (request.signal.aborted) return;
      LIST_STATUSES.forEach((status, index) => {
        inbox.lists[status] = asArray(results[index] && results[index].conversations).filter((item) => item && item.id);
      });
      // Oldest first while waiting (who waited longest goes first); the latest first once resolved.
      inbox.lists.waiting.sort((a, b) => asText(a.waitingSince).localeCompare(asText(b.waitingSince)));
      inbox.lists.resolved.sort((a, b) => asText(b.waitingSince).localeCompare(asText(a.waitingSince)));
      hideNotice(dom.queueNotice);
      renderQueue();
    } catch (error) {
      if (isAbort(error) || error instanceof AuthError) return;
      console.error(error);
      showNotice(dom.queueNotice, describeError(error));
    } finally {
      if (inbox.listsRequest === request) inbox.listsRequest = null;
    }
  }

  function tabItems(tab) {
    if (tab === 'waiting') return inbox.lists.waiting;
    if (tab === 'mine') return inbox.lists.assigned.filter(isMine);
    if (tab === 'others') return inbox.lists.assigned.filter((item) => !isMine(item));
    return inbox.lists.resolved;
  }

  function selectTab(tab) {
    inbox.tab = INBOX_TABS.includes(tab) ? tab : 'waiting';
    for (const button of dom.queueTabs.querySelectorAll('[data-tab]')) {
      const selected = button.dataset.tab === inbox.tab;
      button.setAttribute('aria-selected', String(selected));
      button.tabIndex = selected ? 0 : -1;
    }
    renderQueue();
  }

  function renderQueue() {
    for (const button of dom.queueTabs.querySelectorAll('[data-tab]')) {
      const items = tabItems(button.dataset.tab);
      const unread = items.some((item) => inbox.unread.has(item.id));
      $('.tab-count', button).textContent = button.dataset.tab === 'resolved' ? '' : String(items.length);
      button.dataset.unread = String(unread);
    }
    const items = tabItems(inbox.tab);
    dom.queueList.replaceChildren(...items.map(queueItem));
    dom.queueEmpty.hidden = items.length > 0;
    if (!items.length) dom.queueEmpty.textContent = t(`ui.admin.inbox.empty.${inbox.tab}`);
    const waiting = inbox.lists.waiting.length;
    document.title = waiting ? t('ui.admin.inbox.pageTitle', { count: waiting, title: t('ui.admin.title') }) : t('ui.admin.title');
  }

  function queueItem(item) {
    const open = item.id === inbox.openId;
    const meta = [el('span', { text: stepText(item.step) })];
    if (item.status === 'assigned' && item.agent) meta.push(el('span', { text: agentLabel(item.agent.name) }));
    meta.push(el('span', { className: 'muted', text: t('ui.admin.inbox.shortId', { id: shortId(item.id) }) }));
    const button = el('button', { className: 'queue-item', testid: 'inbox-item', attrs: { type: 'button', 'data-id': asText(item.id), 'data-status': asText(item.status) } }, [
      el('span', { className: 'queue-item-top' }, [
        el('span', { className: 'queue-reason', text: labelFor('ui.admin.reason.', asText(item.reason)) }),
        item.status === 'waiting'
          ? waitedElement(item.waitingSince, 'queue-waited')
          : el('span', { className: 'queue-time muted', text: t('ui.admin.inbox.handedOverAt', { time: formatClock(item.waitingSince) }) }),
      ]),
      el('span', { className: 'queue-item-meta small' }, meta),
      inbox.unread.has(item.id) ? el('span', { className: 'unread', text: t('ui.admin.inbox.unread') }) : null,
    ]);
    if (open) button.setAttribute('aria-current', 'true');
    button.addEventListener('click', () => openConversation(item.id));
    return el('li', {}, [button]);
  }

  // --- the open conversation

  function openConversation(id) {
    if (inbox.openId !== id) {
      inbox.openId = id;
      inbox.detail = null;
      inbox.lines = new Map();
      inbox.notice = null;
      dom.replyInput.value = '';
      dom.convLines.replaceChildren();
    }
    inbox.unread.delete(id);
    renderQueue();
    void refreshDetail();
    // One column (a narrow window): the conversation is below the queue, so bring it into view.
    if (window.matchMedia('(max-width: 899px)').matches) dom.conversationBody.parentElement.scrollIntoView({ block: 'start' });
  }

  function scheduleDetail() {
    clearTimeout(inbox.detailTimer);
    inbox.detailTimer = setTimeout(() => void refreshDetail(), 100);
  }

  async function refreshDetail() {
    const id = inbox.openId;
    if (!id) return;
    if (inbox.detailRequest) inbox.detailRequest.abort();
    const request = new AbortController();
    inbox.detailRequest = request;
    try {
      const data = await apiRequest('GET', `/api/agent/conversations/${encodeURIComponent(id)}`, { signal: request.signal });
      if (request.signal.aborted || inbox.openId !== id) return;
      inbox.detail = data;
      for (const line of asArray(data && data.transcript)) addLine(line);
      renderConversation();
    } catch (error) {
      if (isAbort(error) || error instanceof AuthError || inbox.openId !== id) return;
      console.error(error);
      setConversationNotice('ui.admin.inbox.loadFailed', { message: describeError(error) });
      renderConversation();
    } finally {
      if (inbox.detailRequest === request) inbox.detailRequest = null;
    }
  }

  /** Adds a transcript line once, whether it came from the stream, a reply or a reload. */
  function addLine(line) {
    if (!line || typeof line !== 'object') return false;
    const seq = Number(line.seq);
    const key = Number.isFinite(seq) && seq > 0 ? seq : `${asText(line.at)}|${asText(line.text)}`;
    if (inbox.lines.has(key)) return false;
    inbox.lines.set(key, line);
    return true;
  }

  function sortedLines() {
    return [...inbox.lines.values()].sort((a, b) => count(Number(a.seq)) - count(Number(b.seq)) || asText(a.at).localeCompare(asText(b.at)));
  }

  function setConversationNotice(key, params, kind = 'error') {
    inbox.notice = key ? { key, params, kind } : null;
  }

  function lineElement(line) {
    const role = line.role === 'user' || line.role === 'agent' ? line.role : 'bot';
    const who = role === 'agent' ? agentLabel(line.agentName) : t(`ui.admin.ticket.role.${role}`);
    const buttons = asArray(line.quickReplies).map((reply) => asText(reply && reply.title)).filter(Boolean);
    return el('li', { className: `line line-${role}`, testid: 'inbox-line', attrs: { 'data-role': role, 'data-seq': asText(line.seq) } }, [
      el('span', { className: 'line-role', text: who }),
      clockElement(line.at, 'line-time muted'),
      el('p', { className: 'line-text user-text', text: asText(line.text) }),
      buttons.length ? el('p', { className: 'line-buttons muted small', text: t('ui.admin.inbox.buttonsOffered', { buttons: buttons.join(' · ') }) }) : null,
    ]);
  }

  function renderConversation() {
    const detail = inbox.detail;
    dom.conversationPlaceholder.hidden = Boolean(inbox.openId);
    dom.conversationBody.hidden = !inbox.openId;
    if (!inbox.openId) return;
    const status = detail ? asText(detail.status) : '';
    const mine = isMine(detail);
    dom.conversationBody.dataset.status = status;
    dom.conversationBody.dataset.mine = String(mine);

    dom.convReason.textContent = detail ? labelFor('ui.admin.reason.', asText(detail.reason)) : t('ui.admin.loading');
    let badge = '';
    if (status === 'waiting') badge = t('ui.admin.inbox.status.waiting');
    else if (status === 'assigned') badge = mine ? t('ui.admin.inbox.status.mine') : t('ui.admin.inbox.status.other', { name: asText(detail.agent && detail.agent.name) });
    else if (status === 'resolved') badge = t('ui.admin.inbox.status.resolved');
    dom.convStatus.textContent = badge;
    dom.convStatus.hidden = !badge;
    dom.convStatus.dataset.status = mine ? 'mine' : status;

    const meta = [];
    if (detail) {
      meta.push(metaItem('ui.admin.ticket.createdAt', timeElement(detail.waitingSince)));
      if (status === 'waiting') meta.push(metaItem('ui.admin.inbox.waitedLabel', waitedElement(detail.waitingSince, 'conv-waited')));
      meta.push(metaItem('ui.admin.ticket.step', document.createTextNode(stepText(detail.step))));
      meta.push(metaItem('ui.admin.ticket.conversation', el('code', { className: 'conversation-id', text: asText(detail.id) })));
    }
    dom.convMeta.replaceChildren(...meta);

    dom.claimButton.hidden = status !== 'waiting';
    dom.handbackButton.hidden = !mine;
    dom.resolveButton.hidden = !mine;
    for (const button of [dom.claimButton, dom.handbackButton, dom.resolveButton, dom.replySend, dom.suggestionSend]) button.disabled = inbox.busy;

    if (inbox.notice) showNotice(dom.convNotice, t(inbox.notice.key, inbox.notice.params), inbox.notice.kind);
    else if (status === 'assigned' && !mine) showNotice(dom.convNotice, t('ui.admin.inbox.heldByOther', { name: asText(detail.agent && detail.agent.name) }), 'info');
    else hideNotice(dom.convNotice);

    const lines = sortedLines();
    const nearBottom = dom.convLines.scrollHeight - dom.convLines.scrollTop - dom.convLines.clientHeight < 80;
    const shown = dom.convLines.children.length;
    dom.convLines.replaceChildren(...lines.map(lineElement));
    if (!lines.length) dom.convLines.append(el('li', { className: 'muted', text: t('ui.admin.ticket.transcriptEmpty') }));
    if (nearBottom || shown === 0 || lines.length > shown) dom.convLines.scrollTop = dom.convLines.scrollHeight;

    // The suggestion answers the user's last message: shown until an agent has answered it.
    const lastUser = lines.filter((line) => line.role === 'user').at(-1);
    const answered = lastUser && lines.some((line) => line.role === 'agent' && count(Number(line.seq)) > count(Number(lastUser.seq)));
    const suggestion = detail && detail.suggestion && typeof detail.suggestion.text === 'string' ? detail.suggestion.text : '';
    const showSuggestion = Boolean(suggestion) && !answered && (status === 'waiting' || mine);
    dom.suggestion.hidden = !showSuggestion;
    dom.suggestionText.textContent = showSuggestion ? suggestion : '';
    dom.suggestionUse.hidden = !mine;
    dom.suggestionSend.hidden = !mine;

    dom.replyForm.hidden = !mine;
    let closed = '';
    if (status === 'waiting') closed = t('ui.admin.inbox.replyAfterClaim');
    else if (status === 'resolved') closed = t('ui.admin.inbox.replyResolved');
    dom.replyClosed.textContent = closed;
    dom.replyClosed.hidden = !closed;
    if (mine) dom.replyLabel.textContent = t('ui.admin.inbox.reply.label', { name: inbox.me ? inbox.me.name : '' });
    if (!mine || status !== 'assigned') hideUserTyping();
  }

  // --- what the agent does

  async function act(action) {
    const id = inbox.openId;
    if (!id || inbox.busy) return;
    inbox.busy = true;
    setConversationNotice(null);
    renderConversation();
    try {
      const data = await apiRequest('POST', `/api/agent/conversations/${encodeURIComponent(id)}/${action}`, { body: {} });
      if (inbox.openId !== id) return;
      if (action === 'claim') {
        if (data && data.agent && !inbox.me) inbox.me = { id: asText(data.agent.id), name: asText(data.agent.name) };
        if (data && data.id) {
          inbox.detail = data;
          for (const line of asArray(data.transcript)) addLine(line);
        }
        inbox.tab = 'mine';
        dom.replyInput.focus();
      } else {
        setConversationNotice(action === 'resolve' ? 'ui.admin.inbox.resolvedNote' : 'ui.admin.inbox.handedBackNote', undefined, 'info');
      }
    } catch (error) {
      if (error instanceof AuthError) return;
      if (!(error instanceof HttpError)) console.error(error);
      setConversationNotice(actionErrorKey(action, error), { message: describeError(error) });
    } finally {
      inbox.busy = false;
      if (inbox.openId === id) {
        selectTab(inbox.tab);
        renderConversation();
        void refreshDetail(); // who holds it now (after a 409: which agent)
      }
      void refreshLists();
    }
  }

  function actionErrorKey(action, error) {
    const code = error instanceof HttpError ? error.code : '';
    if (code === 'already_claimed') return 'ui.admin.inbox.error.alreadyClaimed';
    if (code === 'not_assigned_to_you') return 'ui.admin.inbox.error.notYours';
    if (code === 'already_resolved') return 'ui.admin.inbox.error.alreadyResolved';
    if (code === 'not_assigned') return 'ui.admin.inbox.error.notAssigned';
    return `ui.admin.inbox.error.${action}`;
  }

  async function sendReply(text) {
    const id = inbox.openId;
    const message = asText(text).trim();
    if (!id || !message || inbox.busy) return false;
    inbox.busy = true;
    setConversationNotice(null);
    renderConversation();
    try {
      const data = await apiRequest('POST', `/api/agent/conversations/${encodeURIComponent(id)}/messages`, { body: { text: message } });
      if (inbox.openId === id && data && data.message) addLine(data.message);
      inbox.lastTypingSent = 0; // typing after a sent line is news again
      return true;
    } catch (error) {
      if (error instanceof AuthError) return false;
      if (!(error instanceof HttpError)) console.error(error);
      const code = error instanceof HttpError ? error.code : '';
      const textProblem = ['empty_text', 'text_too_long', 'control_characters', 'invalid_unicode', 'text_not_string'].includes(code);
      setConversationNotice(textProblem ? `ui.admin.inbox.error.text.${code}` : actionErrorKey('send', error), { message: describeError(error) });
      if (!textProblem) void refreshDetail();
      return false;
    } finally {
      inbox.busy = false;
      if (inbox.openId === id) renderConversation();
    }
  }

  async function submitReply() {
    const sent = await sendReply(dom.replyInput.value);
    if (sent) dom.replyInput.value = '';
    dom.replyInput.focus();
  }

  /** The widget shows "客服正在输入…": tell it while the agent types, at most every few seconds. */
  function agentTyping() {
    const id = inbox.openId;
    if (!id || !isMine(inbox.detail) || !dom.replyInput.value.trim()) return;
    const now = Date.now();
    if (now - inbox.lastTypingSent < TYPING_SEND_MS) return;
    inbox.lastTypingSent = now;
    apiRequest('POST', `/api/agent/conversations/${encodeURIComponent(id)}/typing`, { as: 'none' }).catch((error) => {
      if (!(error instanceof AuthError) && !(error instanceof HttpError)) console.error(error);
    });
  }

  function showUserTyping() {
    dom.convTyping.textContent = t('ui.admin.inbox.userTyping');
    dom.convTyping.hidden = false;
    clearTimeout(inbox.userTypingTimer);
    inbox.userTypingTimer = setTimeout(hideUserTyping, TYPING_SHOWN_MS);
  }

  function hideUserTyping() {
    clearTimeout(inbox.userTypingTimer);
    dom.convTyping.hidden = true;
  }

  // --- live events

  function setLiveStatus(key, params) {
    if (!key) hideNotice(dom.liveStatus);
    else showNotice(dom.liveStatus, t(key, params), 'info');
  }

  /** GET /api/agent/events with the token (EventSource cannot send it), read as it arrives. */
  async function connectEvents() {
    const session = state.session;
    clearTimeout(inbox.streamTimer);
    if (inbox.stream) inbox.stream.abort();
    const controller = new AbortController();
    inbox.stream = controller;
    const lost = () => {
      clearTimeout(inbox.watchdog);
      if (controller.signal.aborted && inbox.stream !== controller) return; // replaced or signed out
      if (session !== state.session) return;
      reconnectLater();
    };
    let response;
    try {
      response = await fetch('/api/agent/events', {
        headers: { Authorization: `Bearer ${agentToken()}`, Accept: 'text/event-stream' },
        cache: 'no-store',
        credentials: 'omit',
        signal: controller.signal,
      });
    } catch {
      lost();
      return;
    }
    if (session !== state.session) return;
    if (response.status === 401 || response.status === 403) {
      signOut('ui.admin.login.rejected');
      return;
    }
    if (!response.ok || !response.body) {
      lost();
      return;
    }
    inbox.retryMs = RETRY_FIRST_MS;
    setLiveStatus(null);
    dom.inbox.dataset.live = 'true';
    // Whatever happened before the stream opened (or while it was down) is read back from the API.
    void refreshLists();
    if (inbox.openId) void refreshDetail();
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    const feedWatchdog = () => {
      clearTimeout(inbox.watchdog);
      inbox.watchdog = setTimeout(() => controller.abort(), STREAM_SILENT_MS);
    };
    feedWatchdog();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        feedWatchdog();
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
          const event = parseEvent(block);
          if (event && session === state.session) handleEvent(event.type, event.data);
        }
      }
    } catch (error) {
      if (!isAbort(error)) console.warn('admin: inbox stream broke', error);
    }
    if (inbox.stream === controller && session === state.session) {
      inbox.stream = null;
      dom.inbox.dataset.live = 'false';
      reconnectLater();
    }
  }

  function parseEvent(block) {
    let type = 'message';
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (!line || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
    }
    if (!data.length) return null;
    try {
      return { type, data: JSON.parse(data.join('\n')) };
    } catch {
      console.warn(`admin: unreadable ${type} event`);
      return null;
    }
  }

  function reconnectLater() {
    clearTimeout(inbox.streamTimer);
    dom.inbox.dataset.live = 'false';
    const delay = inbox.retryMs;
    inbox.retryMs = Math.min(RETRY_MAX_MS, inbox.retryMs * 2);
    setLiveStatus('ui.admin.inbox.live.lost', { seconds: Math.round(delay / 1000) });
    inbox.streamTimer = setTimeout(() => {
      setLiveStatus('ui.admin.inbox.live.reconnecting');
      void connectEvents();
    }, delay + Math.random() * 250);
  }

  function handleEvent(type, data) {
    if (!data || typeof data !== 'object') return;
    const id = asText(data.conversationId);
    const open = id && id === inbox.openId;
    if (type === 'conversation.waiting' || type === 'conversation.claimed' || type === 'conversation.resolved') {
      scheduleLists();
      if (open) scheduleDetail();
      return;
    }
    if (type === 'message.created') {
      const message = data.message && typeof data.message === 'object' ? data.message : null;
      if (open) {
        if (message && addLine(message)) renderConversation();
        if (!message || message.role === 'user') {
          hideUserTyping();
          scheduleDetail(); // a new suggestion answers the new message
        }
      } else if (message && message.role === 'user' && inbox.lists.assigned.some((item) => item.id === id && isMine(item))) {
        inbox.unread.add(id);
        renderQueue();
      }
      return;
    }
    if (type === 'typing' && open && isMine(inbox.detail)) showUserTyping();
  }

  function bindInbox() {
    dom.queueTabs.addEventListener('click', (event) => {
      const button = event.target.closest('[data-tab]');
      if (button) selectTab(button.dataset.tab);
    });
    dom.queueTabs.addEventListener('keydown', (event) => {
      if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
      const index = INBOX_TABS.indexOf(inbox.tab) + (event.key === 'ArrowRight' ? 1 : -1);
      selectTab(INBOX_TABS[(index + INBOX_TABS.length) % INBOX_TABS.length]);
      $(`[data-tab="${inbox.tab}"]`, dom.queueTabs).focus();
    });
    dom.claimButton.addEventListener('click', () => act('claim'));
    dom.handbackButton.addEventListener('click', () => act('handback'));
    dom.resolveButton.addEventListener('click', () => act('resolve'));
    dom.replyForm.addEventListener('submit', (event) => {
      event.preventDefault();
      void submitReply();
    });
    dom.replyInput.addEventListener('keydown', (event) => {
      // Enter sends, Shift+Enter is a new line; Enter that confirms an IME candidate does neither.
      if (event.key !== 'Enter' || event.shiftKey || event.isComposing || event.keyCode === 229) return;
      event.preventDefault();
      void submitReply();
    });
    dom.replyInput.addEventListener('input', agentTyping);
    dom.suggestionUse.addEventListener('click', () => {
      dom.replyInput.value = dom.suggestionText.textContent;
      dom.replyInput.focus();
      dom.replyInput.setSelectionRange(dom.replyInput.value.length, dom.replyInput.value.length);
      agentTyping();
    });
    dom.suggestionSend.addEventListener('click', () => void sendReply(dom.suggestionText.textContent));
  }

  // ---------------------------------------------------------------- start

  function bindDom() {
    Object.assign(dom, {
      bootStatus: $('#boot-status'),
      login: $('#login-view'),
      loginForm: $('#login-form'),
      loginNotice: $('#login-notice'),
      tokenInput: $('#token-input'),
      signOut: $('#sign-out'),
      dashboard: $('#dashboard'),
      dashboardNotice: $('#dashboard-notice'),
      rangeForm: $('#range-form'),
      rangeFrom: $('#range-from'),
      rangeTo: $('#range-to'),
      rangeStatus: $('#range-status'),
      cards: $('#cards'),
      ratesPanel: $('#chart-rates'),
      funnelPanel: $('#chart-funnel'),
      verificationPanel: $('#chart-verification'),
      intentsPanel: $('#chart-intents'),
      unansweredTable: $('#unanswered table'),
      unansweredRows: $('#unanswered-rows'),
      unansweredEmpty: $('#unanswered-empty'),
      unansweredCapped: $('#unanswered-capped'),
      exportButton: $('#export'),
      exportNotice: $('#export-notice'),
      ticketsSection: $('#tickets'),
      ticketFilter: $('#tickets .segmented'),
      ticketsNotice: $('#tickets-notice'),
      ticketList: $('#ticket-list'),
      ticketsEmpty: $('#tickets-empty'),
      ticketsShown: $('#tickets-shown'),
      ticketsMore: $('#tickets-more'),
      who: $('#who'),
      handoffsPanel: $('#handoffs'),
      handoffStats: $('#handoff-stats'),
      handoffAgentsTable: $('#handoff-agents'),
      handoffAgentRows: $('#handoff-agent-rows'),
      handoffAgentsEmpty: $('#handoff-agents-empty'),
      agentForm: $('#agent-form'),
      agentName: $('#agent-name'),
      agentsNotice: $('#agents-notice'),
      tokenBox: $('#token-box'),
      tokenWarning: $('#token-warning'),
      tokenValue: $('#token-value'),
      tokenCopy: $('#token-copy'),
      tokenCopyStatus: $('#token-copy-status'),
      tokenDone: $('#token-done'),
      agentsTable: $('#agents-table'),
      agentRows: $('#agent-rows'),
      agentsEmpty: $('#agents-empty'),
      inbox: $('#inbox'),
      liveStatus: $('#live-status'),
      queueTabs: $('#queue-tabs'),
      queueNotice: $('#queue-notice'),
      queueList: $('#queue-list'),
      queueEmpty: $('#queue-empty'),
      conversationPlaceholder: $('#conversation-placeholder'),
      conversationBody: $('#conversation-body'),
      convReason: $('#conv-reason'),
      convStatus: $('#conv-status'),
      convMeta: $('#conv-meta'),
      convNotice: $('#conv-notice'),
      convLines: $('#conv-lines'),
      convTyping: $('#conv-typing'),
      claimButton: $('#conv-claim'),
      handbackButton: $('#conv-handback'),
      resolveButton: $('#conv-resolve'),
      suggestion: $('#suggestion'),
      suggestionText: $('#suggestion-text'),
      suggestionUse: $('#suggestion-use'),
      suggestionSend: $('#suggestion-send'),
      replyClosed: $('#reply-closed'),
      replyForm: $('#reply-form'),
      replyLabel: $('#reply-label'),
      replyInput: $('#reply-input'),
      replySend: $('#reply-send'),
    });
  }

  function bindEvents() {
    dom.loginForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const token = dom.tokenInput.value.trim();
      if (!token) return;
      writeToken(token);
      dom.tokenInput.value = '';
      void signIn();
    });
    dom.signOut.addEventListener('click', () => signOut('ui.admin.signedOut'));
    dom.rangeForm.addEventListener('submit', (event) => {
      event.preventDefault();
      loadAnalytics();
      loadTickets(state.ticketStatus); // "apply" also refreshes the tickets and the open count
    });
    dom.exportButton.addEventListener('click', exportUnanswered);
    dom.ticketFilter.addEventListener('click', (event) => {
      const button = event.target.closest('button[data-status]');
      if (button && TICKET_STATUSES.includes(button.dataset.status)) loadTickets(button.dataset.status);
    });
    dom.ticketsMore.addEventListener('click', () => loadTickets(state.ticketStatus, { more: true }));
    bindAgentsPanel();
    bindInbox();
  }

  async function start() {
    bindDom();
    let texts;
    try {
      texts = await loadTexts();
    } catch (error) {
      // Without the labels there is nothing to show the team; say so in the only language we have here.
      console.error(error);
      dom.bootStatus.textContent = 'Cannot load the page labels (GET /api/ui). Reload the page to try again.';
      return;
    }
    state.texts = texts;
    setLanguage(asText(texts['ui.admin.lang']) || 'zh-CN');
    document.title = t('ui.admin.title');
    applyStaticTexts();
    buildCards();
    const range = initialRange();
    dom.rangeFrom.value = range.from;
    dom.rangeTo.value = range.to;
    const today = isoDay(new Date());
    dom.rangeFrom.max = today;
    dom.rangeTo.max = today;
    bindEvents();
    dom.bootStatus.remove();
    if (readToken()) void signIn();
    else showLogin();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
