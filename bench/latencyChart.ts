/** A point of the chart: latency percentiles (ms) at one concurrency. */
export interface ChartLevel {
  concurrency: number;
  bot: { p50: number; p99: number };
  bare: { p50: number; p99: number };
}

const width = 760;
const height = 460;
const margin = { top: 64, right: 190, bottom: 56, left: 72 };
const plotWidth = width - margin.left - margin.right;
const plotHeight = height - margin.top - margin.bottom;

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fixed = (value: number) => value.toFixed(1);

/** Powers of ten covering [low, high], and the 2× and 5× marks between them for grid lines. */
function logTicks(low: number, high: number): { major: number[]; minor: number[] } {
  const major: number[] = [];
  const minor: number[] = [];
  for (let exponent = Math.floor(Math.log10(low)); exponent <= Math.ceil(Math.log10(high)); exponent++) {
    const decade = 10 ** exponent;
    major.push(decade);
    minor.push(2 * decade, 5 * decade);
  }
  return { major, minor };
}

function tickLabel(value: number): string {
  return value >= 1 ? String(value) : String(Number(value.toPrecision(1)));
}

/**
 * Latency (p50 and p99, log scale) against concurrency (log scale) for the bot and for a bare
 * express route on the same machine, as a standalone SVG with no library.
 */
export function renderLatencyChart(levels: readonly ChartLevel[], subtitle: string): string {
  const values = levels.flatMap((level) => [level.bot.p50, level.bot.p99, level.bare.p50, level.bare.p99]).filter((value) => value > 0 && Number.isFinite(value));
  const { major, minor } = logTicks(Math.min(...values), Math.max(...values));
  const yLow = Math.log10(major[0]!);
  const yHigh = Math.log10(major[major.length - 1]!);
  const concurrencies = levels.map((level) => level.concurrency);
  const xLow = Math.log2(Math.min(...concurrencies));
  const xHigh = Math.log2(Math.max(...concurrencies));
  const x = (concurrency: number) => margin.left + (xHigh === xLow ? plotWidth / 2 : ((Math.log2(concurrency) - xLow) / (xHigh - xLow)) * plotWidth);
  const y = (ms: number) => margin.top + plotHeight - ((Math.log10(ms) - yLow) / (yHigh - yLow)) * plotHeight;

  const series = [
    { name: 'bot p99', color: '#c0392b', dash: '6 4', pick: (level: ChartLevel) => level.bot.p99 },
    { name: 'bot p50', color: '#c0392b', dash: '', pick: (level: ChartLevel) => level.bot.p50 },
    { name: 'bare express p99', color: '#2471a3', dash: '6 4', pick: (level: ChartLevel) => level.bare.p99 },
    { name: 'bare express p50', color: '#2471a3', dash: '', pick: (level: ChartLevel) => level.bare.p50 },
  ];

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${margin.left}" y="24" font-size="16" font-weight="600">REST turn latency against concurrent conversations</text>`);
  out.push(`<text x="${margin.left}" y="44" fill="#555">${escapeXml(subtitle)}</text>`);

  for (const value of minor.filter((tick) => Math.log10(tick) > yLow && Math.log10(tick) < yHigh)) {
    out.push(`<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${fixed(y(value))}" y2="${fixed(y(value))}" stroke="#f0f0f0"/>`);
  }
  for (const value of major) {
    out.push(`<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${fixed(y(value))}" y2="${fixed(y(value))}" stroke="#d9d9d9"/>`);
    out.push(`<text x="${margin.left - 8}" y="${fixed(y(value) + 4)}" text-anchor="end">${tickLabel(value)}</text>`);
  }
  for (const concurrency of concurrencies) {
    out.push(`<line x1="${fixed(x(concurrency))}" x2="${fixed(x(concurrency))}" y1="${margin.top}" y2="${margin.top + plotHeight}" stroke="#ececec"/>`);
    out.push(`<text x="${fixed(x(concurrency))}" y="${margin.top + plotHeight + 18}" text-anchor="middle">${concurrency}</text>`);
  }
  out.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#999"/>`);
  out.push(`<text x="${margin.left + plotWidth / 2}" y="${height - 14}" text-anchor="middle">concurrent conversations (autocannon connections, log scale)</text>`);
  out.push(`<text transform="translate(18 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">latency, ms (log scale)</text>`);

  for (const { name, color, dash, pick } of series) {
    const points = levels.map((level) => ({ px: x(level.concurrency), py: y(Math.max(pick(level), major[0]!)), value: pick(level) }));
    const path = points.map(({ px, py }, index) => `${index === 0 ? 'M' : 'L'}${fixed(px)} ${fixed(py)}`).join(' ');
    out.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}><title>${name}</title></path>`);
    for (const { px, py, value } of points) {
      out.push(`<circle cx="${fixed(px)}" cy="${fixed(py)}" r="3.5" fill="${color}"><title>${name}: ${value.toFixed(2)} ms</title></circle>`);
    }
  }

  const legendX = margin.left + plotWidth + 20;
  series.forEach(({ name, color, dash }, index) => {
    const legendY = margin.top + 10 + index * 22;
    out.push(`<line x1="${legendX}" x2="${legendX + 28}" y1="${legendY}" y2="${legendY}" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
    out.push(`<text x="${legendX + 36}" y="${legendY + 4}">${name}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
