// A small SVG line chart of one metric across versions, drawn without a
// library. Built with createElementNS; labels are text nodes.

const kNs = 'http://www.w3.org/2000/svg';
const kLabelGap = 44;  // px of the viewBox per x-axis label

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(kNs, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

// points: [{x: version number, y: value, stage}], sorted by x.
export function lineChart(points, { width = 560, height = 200, label = '' } = {}) {
  const pad = { left: 56, right: 16, top: 16, bottom: 32 };
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': label });
  if (!points.length) {
    svg.append(s('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle', class: 'axis' }, 'no values'));
    return svg;
  }
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y0 === y1) { y0 -= Math.abs(y0) * 0.05 || 1; y1 += Math.abs(y1) * 0.05 || 1; }
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const px = (x) => pad.left + (x1 === x0 ? 0.5 : (x - x0) / (x1 - x0)) * (width - pad.left - pad.right);
  const py = (y) => height - pad.bottom - ((y - y0) / (y1 - y0)) * (height - pad.top - pad.bottom);

  // Axes with the value range and each version number.
  svg.append(s('line', { x1: pad.left, y1: height - pad.bottom, x2: width - pad.right, y2: height - pad.bottom, class: 'grid' }));
  for (const y of [y0, (y0 + y1) / 2, y1]) {
    svg.append(s('line', { x1: pad.left, y1: py(y), x2: width - pad.right, y2: py(y), class: 'grid' }));
    svg.append(s('text', { x: pad.left - 6, y: py(y) + 4, 'text-anchor': 'end', class: 'axis' }, fmt(y)));
  }
  // Version labels: at most one per kLabelGap px (40 versions would print
  // on top of each other); the newest always has one.
  const room = Math.max(1, Math.floor((width - pad.left - pad.right) / kLabelGap));
  const step = Math.ceil(points.length / room);
  points.forEach((p, i) => {
    const last = i === points.length - 1;
    if (!last && (i % step !== 0 || points.length - 1 - i < step)) return;
    svg.append(s('text', { x: px(p.x), y: height - pad.bottom + 18, 'text-anchor': 'middle', class: 'axis xlabel' }, `v${p.x}`));
  });

  svg.append(s('polyline', { points: points.map((p) => `${px(p.x)},${py(p.y)}`).join(' '), class: 'line' }));
  for (const p of points) {
    const dot = s('circle', { cx: px(p.x), cy: py(p.y), r: 4, class: `dot stage-${p.stage || 'none'}` });
    dot.append(s('title', {}, `v${p.x} (${p.stage || 'none'}): ${p.y}`));
    svg.append(dot);
  }
  return svg;
}

function fmt(y) {
  return Math.abs(y) >= 1000 || (Math.abs(y) < 0.01 && y !== 0) ? y.toExponential(2) : String(+y.toFixed(3));
}
