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
    analytics: null,
    analyticsRequest: null,
    ticketsRequest: null,
    ticketStatus: 'open',
    tickets: [],
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

  /** An /api/admin call with the token. A 401 or 403 signs out and asks for the token again. */
  async function adminRequest(method, path, { body, signal, as = 'json' } = {}) {
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
      if (session === state.session) signOut('ui.admin.login.rejected');
      throw new AuthError(method, path, response.status);
    }
    if (!response.ok) {
      const data = await response.json().catch(() => null);
      const error = data && typeof data.error === 'object' && data.error ? data.error : {};
      throw new HttpError(method, path, response.status, asText(error.code), asText(error.message));
    }
    return as === 'blob' ? response.blob() : response.json();
  }

  async function loadTexts() {
    const response = await fetch('/api/ui', { cache: 'no-store', credentials: 'omit' });
    if (!response.ok) throw new HttpError('GET', '/api/ui', response.status, '', '');
    const data = await response.json();
    if (!data || typeof data.texts !== 'object' || !data.texts) throw new Error('GET /api/ui: no texts');
    return data.texts;
  }

  // ---------------------------------------------------------------- session

  function showLogin(noticeKey) {
    dom.dashboard.hidden = true;
    dom.signOut.hidden = true;
    dom.login.hidden = false;
    if (noticeKey) showNotice(dom.loginNotice, t(noticeKey), noticeKey === 'ui.admin.signedOut' ? 'info' : 'error');
    else hideNotice(dom.loginNotice);
    dom.tokenInput.value = '';
    dom.tokenInput.focus();
  }

  function showDashboard() {
    dom.login.hidden = true;
    dom.dashboard.hidden = false;
    dom.signOut.hidden = false;
    hideNotice(dom.loginNotice);
    loadAnalytics();
    loadTickets(state.ticketStatus);
  }

  /** Forgets the token and everything shown with it (transcripts stay off screen once signed out). */
  function signOut(noticeKey) {
    state.session += 1;
    writeToken('');
    if (state.analyticsRequest) state.analyticsRequest.abort();
    if (state.ticketsRequest) state.ticketsRequest.abort();
    state.analytics = null;
    state.tickets = [];
    state.openTickets = null;
    for (const chart of state.charts.values()) chart.destroy();
    state.charts.clear();
    dom.unansweredRows.replaceChildren();
    dom.ticketList.replaceChildren();
    for (const box of document.querySelectorAll('.chart-data .table-wrap')) box.replaceChildren();
    renderCards(null);
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
    renderChartsOrNotice(data);
    renderUnanswered(asArray(data.unanswered));
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

  async function loadTickets(status) {
    state.ticketStatus = status;
    for (const button of dom.ticketFilter.querySelectorAll('button')) button.setAttribute('aria-pressed', String(button.dataset.status === status));
    if (state.ticketsRequest) state.ticketsRequest.abort();
    const request = new AbortController();
    state.ticketsRequest = request;
    hideNotice(dom.ticketsNotice);
    dom.ticketsSection.setAttribute('aria-busy', 'true');
    try {
      const data = await adminRequest('GET', `/api/admin/tickets?status=${encodeURIComponent(status)}`, { signal: request.signal });
      if (request.signal.aborted) return;
      state.tickets = asArray(data && data.tickets).filter((ticket) => ticket && ticket.id !== undefined);
      renderTickets();
      if (status === 'closed') void refreshOpenTickets(request.signal);
      else setOpenTickets(state.tickets.filter((ticket) => ticket.status === 'open').length);
    } catch (error) {
      if (isAbort(error) || error instanceof AuthError) return;
      console.error(error);
      showNotice(dom.ticketsNotice, describeError(error));
    } finally {
      if (state.ticketsRequest === request) {
        state.ticketsRequest = null;
        dom.ticketsSection.removeAttribute('aria-busy');
      }
    }
  }

  /** The "open tickets" card counts open tickets even while the list shows closed ones. */
  async function refreshOpenTickets(signal) {
    try {
      const data = await adminRequest('GET', '/api/admin/tickets?status=open', { signal });
      setOpenTickets(asArray(data && data.tickets).length);
    } catch (error) {
      if (!isAbort(error) && !(error instanceof AuthError)) console.error(error);
    }
  }

  function renderTickets() {
    dom.ticketList.replaceChildren(...state.tickets.map(ticketRow));
    const empty = state.tickets.length === 0;
    dom.ticketsEmpty.hidden = !empty;
    if (empty) dom.ticketsEmpty.textContent = t(`ui.admin.tickets.empty.${state.ticketStatus}`);
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
      const role = line.role === 'user' ? 'user' : 'bot';
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
      exportButton: $('#export'),
      exportNotice: $('#export-notice'),
      ticketsSection: $('#tickets'),
      ticketFilter: $('#tickets .segmented'),
      ticketsNotice: $('#tickets-notice'),
      ticketList: $('#ticket-list'),
      ticketsEmpty: $('#tickets-empty'),
    });
  }

  function bindEvents() {
    dom.loginForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const token = dom.tokenInput.value.trim();
      if (!token) return;
      writeToken(token);
      dom.tokenInput.value = '';
      showDashboard();
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
    if (readToken()) showDashboard();
    else showLogin();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
