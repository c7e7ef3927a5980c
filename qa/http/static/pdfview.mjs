// A page of a PDF as the chat page shows it: drawn by pdf.js (5.6.205, pdfjs-dist,
// Apache-2.0, in ./pdfjs/) to the width of its box, the page's text layer over it, and a
// sentence marked in that layer. Loaded by app.js the first time a PDF is shown.
import * as pdfjs from "/static/pdfjs/pdf.min.mjs";

pdfjs.GlobalWorkerOptions.workerSrc = "/static/pdfjs/pdf.worker.min.mjs";

const opened = new Map(); // url -> a pdf.js document (its promise)

function element(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.append(...children);
  return node;
}

async function documentAt(url, fetchBytes) {
  if (!opened.has(url)) {
    const loading = fetchBytes(url).then((data) =>
      // no eval (the page's CSP forbids it anyway), no XFA forms; pdf.js runs no PDF script
      pdfjs.getDocument({ data, isEvalSupported: false, enableXfa: false }).promise);
    opened.set(url, loading);
    loading.catch(() => opened.delete(url));
  }
  return opened.get(url);
}

// Forget the documents opened (after a change of the collection).
export function forget() {
  for (const loading of opened.values()) loading.then((pdf) => pdf.destroy(), () => {});
  opened.clear();
}

// Page ``number`` of the PDF at ``url`` (read with ``fetchBytes(url)``) drawn into ``box``,
// ``sentence`` marked in its text layer. Returns {page, pages, sheet, marked}.
export async function drawPage(box, url, number, sentence, fetchBytes) {
  const pdf = await documentAt(url, fetchBytes);
  const pageNumber = Math.min(Math.max(1, number), pdf.numPages);
  const page = await pdf.getPage(pageNumber);
  const width = Math.max(280, box.clientWidth - 28);
  const scale = width / page.getViewport({ scale: 1 }).width;
  const viewport = page.getViewport({ scale });
  const ratio = window.devicePixelRatio || 1;
  const canvas = element("canvas");
  canvas.setAttribute("aria-hidden", "true");
  canvas.width = Math.floor(viewport.width * ratio);
  canvas.height = Math.floor(viewport.height * ratio);
  canvas.style.width = `${Math.floor(viewport.width)}px`;
  canvas.style.height = `${Math.floor(viewport.height)}px`;
  const layer = element("div", "textLayer");
  const sheet = element("div", "pdf-page", canvas, layer);
  sheet.dataset.page = String(pageNumber);
  // pdf.js sizes the text layer from these (as its own viewer's CSS sets them)
  sheet.style.setProperty("--scale-factor", String(scale));
  sheet.style.width = `${Math.floor(viewport.width)}px`;
  sheet.style.height = `${Math.floor(viewport.height)}px`;
  box.replaceChildren(sheet);
  await page.render({
    canvas,
    canvasContext: canvas.getContext("2d"),
    viewport,
    transform: ratio !== 1 ? [ratio, 0, 0, ratio, 0, 0] : null,
  }).promise;
  const text = new pdfjs.TextLayer({
    textContentSource: page.streamTextContent(),
    container: layer,
    viewport,
  });
  await text.render();
  return { page: pageNumber, pages: pdf.numPages, sheet, marked: markSentence(layer, sentence) };
}

// Letters and digits only: the text layer breaks lines, spaces and hyphens otherwise than
// the extracted text does.
function squeeze(text) {
  return text.normalize("NFKC").toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "");
}

// ``sentence`` (or, failing that, its beginning) found in the text layer and marked: the
// characters of each line it covers wrapped in a span of their own, as pdf.js's own find
// bar marks them. Returns the marks, first to last.
export function markSentence(layer, sentence) {
  const target = squeeze(sentence || "");
  if (!target) return [];
  const spans = [...layer.querySelectorAll("span")].filter((s) => !s.classList.contains("markedContent"));
  let flat = "";
  const owner = []; // per squeezed character: [span, character of the span's text]
  spans.forEach((span, i) => {
    const text = span.textContent || "";
    for (let c = 0; c < text.length; c += 1) {
      const part = squeeze(text[c]);
      flat += part;
      for (let k = 0; k < part.length; k += 1) owner.push([i, c]);
    }
  });
  let at = flat.indexOf(target);
  let length = target.length;
  for (const n of [80, 40, 20]) {
    if (at >= 0 || target.length <= n) break;
    at = flat.indexOf(target.slice(0, n));
    length = n;
  }
  if (at < 0) return [];
  const ranges = new Map(); // span -> [first, last] character
  for (const [i, c] of owner.slice(at, at + length)) {
    const range = ranges.get(i);
    ranges.set(i, range ? [range[0], c] : [c, c]);
  }
  return [...ranges].map(([i, [first, end]]) => {
    const span = spans[i];
    const text = span.textContent;
    let last = end;
    while (/[.!?;:,)\]"'”’]/u.test(text[last + 1] || "")) last += 1; // its closing marks
    const mark = element("span", "hit appended", text.slice(first, last + 1));
    span.replaceChildren(text.slice(0, first), mark, text.slice(last + 1));
    return mark;
  });
}
