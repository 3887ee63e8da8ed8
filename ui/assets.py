"""The page's CSS and the small scripts that wire citation clicks to the document viewer."""

# Theme variables keep every colour readable in both light and dark mode.
CSS = """
.gradio-container { max-width: 1280px !important; margin: 0 auto !important; }
#app-header h1 { margin: 0; font-size: 1.6rem; }
#app-header p { margin: 0.2rem 0 0; color: var(--body-text-color-subdued); }
.answer { line-height: 1.55; }
.answer .refusal { font-weight: 600; margin: 0; }
.answer .answer-part + .answer-part { margin-top: 0.6rem; }
.answer .part-question { font-style: italic; margin: 0 0 0.2rem; }
.answer .notice, .hint { color: var(--body-text-color-subdued); font-size: 0.9em; }
.answer .computed { font-size: 0.9em; margin: 0.4rem 0 0; }
.answer .computed .formula { font-family: var(--font-mono); }
.answer .query-used { color: var(--body-text-color-subdued); font-size: 0.85em; margin: 0.4rem 0 0; }
.answer .sentence.unsupported {
  text-decoration: underline wavy var(--color-red-500, #ef4444);
  text-underline-offset: 3px; opacity: 0.8;
}
.answer .sentence.unsupported::after { content: " (unsupported)"; font-size: 0.75em; color: var(--color-red-500, #ef4444); }
.answer.error { color: var(--color-red-500, #ef4444); }
button.cite {
  border: none; background: var(--color-accent-soft); color: var(--color-accent);
  border-radius: 4px; padding: 0 0.3em; margin: 0 0.1em; font-size: 0.8em; font-weight: 700;
  cursor: pointer; vertical-align: super; line-height: 1.2;
}
button.cite:hover, button.cite:focus-visible { outline: 2px solid var(--color-accent); }
mark.quote { background: #fde68a; color: #1f2937; border-radius: 3px; padding: 0 1px; }
.dark mark.quote { background: #a16207; color: #fffbeb; }
.sources { display: flex; flex-direction: column; gap: 0.75rem; }
.source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.6rem 0.75rem;
  background: var(--background-fill-secondary); }
.source button.source-number { float: right; vertical-align: baseline; font-size: 0.9em; }
.source-title { font-weight: 600; overflow-wrap: anywhere; }
.source-file { color: var(--body-text-color-subdued); font-size: 0.85em; overflow-wrap: anywhere; }
.sources-heading { font-weight: 600; }
blockquote.passage { margin: 0.5rem 0 0; padding: 0 0 0 0.75rem; border-left: 3px solid var(--border-color-accent);
  white-space: pre-wrap; overflow-wrap: anywhere; font-size: 0.92em; max-height: 16rem; overflow: auto; }
.viewer-head { display: flex; gap: 0.5rem; align-items: baseline; margin-bottom: 0.5rem; }
.viewer-number { font-weight: 700; color: var(--color-accent); }
.viewer.has-pages:not(.show-text) .text-view, .viewer.has-pages.show-text .page-frame,
.viewer.has-pages.show-text .zoom, .viewer.has-pages.show-text .page-nav,
.viewer.has-pages.show-text .page-count { display: none; }
.page-tools { display: flex; flex-wrap: wrap; gap: 0.35rem; align-items: center; margin-bottom: 0.4rem; }
.page-tools button { border: 1px solid var(--border-color-primary); border-radius: 6px; padding: 0.1rem 0.5rem;
  background: var(--background-fill-secondary); color: var(--body-text-color); font-size: 0.85em; cursor: pointer; }
.page-tools button:disabled { opacity: 0.45; cursor: default; }
.page-tools .page-count { font-size: 0.85em; color: var(--body-text-color-subdued); }
.page-tools .zoom { display: inline-flex; gap: 0.15rem; }
.page-frame { max-height: 70vh; overflow: auto; border: 1px solid var(--border-color-primary); border-radius: 8px;
  background: #fff; }
.page-frame figure.page { margin: 0 0 0.5rem; }
.page-frame img.page-image { display: block; width: calc(100% * var(--zoom, 1)); max-width: none; height: auto; }
.page-frame figcaption { font-size: 0.8em; color: #4b5563; padding: 0.1rem 0.5rem; }
button.cite.thumb { display: block; padding: 0; margin: 0.4rem 0 0; background: #fff; vertical-align: baseline;
  border: 1px solid var(--border-color-primary); border-radius: 6px; overflow: hidden; max-width: 100%; }
img.quote-thumb { display: block; max-width: 100%; height: auto; }
.viewer-text { white-space: pre-wrap; overflow-wrap: anywhere; max-height: 55vh; overflow: auto;
  border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.75rem;
  background: var(--background-fill-secondary); font-size: 0.92em; line-height: 1.5; }
.flag { margin: 0.3rem 0 0; padding: 0.2rem 0.5rem; border-radius: 6px; font-size: 0.85em;
  border: 1px solid var(--color-red-500, #ef4444); color: var(--body-text-color); }
.empty { color: var(--body-text-color-subdued); }
table.documents, table.results { width: 100%; border-collapse: collapse; font-size: 0.92em; }
table.documents th, table.documents td, table.results td { text-align: left; padding: 0.35rem 0.5rem;
  border: none !important; border-bottom: 1px solid var(--border-color-primary) !important;
  overflow-wrap: anywhere; }
table.documents, table.results { border: none !important; }
table.documents th { white-space: nowrap; overflow-wrap: normal; }
td.num { text-align: right; white-space: nowrap; }
#dashboard .dashboard-totals { display: flex; flex-wrap: wrap; gap: 0.5rem; margin: 0 0 0.5rem; }
#dashboard .dashboard-totals div { border: 1px solid var(--border-color-primary, #ddd); border-radius: 6px; padding: 0.4rem 0.8rem; }
#dashboard .dashboard-totals dt { font-size: 0.8rem; opacity: 0.75; }
#dashboard .dashboard-totals dd { margin: 0; font-size: 1.3rem; font-weight: 600; }
#dashboard table { border-collapse: collapse; margin: 0.3rem 0 0.8rem; }
#dashboard td, #dashboard th { padding: 0.2rem 0.6rem; text-align: left; }
#dashboard td.num { text-align: right; }
#dashboard svg { max-width: 100%; height: auto; background: #fff; border-radius: 4px; }
.feedback-status.error { color: var(--color-red-500, #ef4444); }
.badge { border-radius: 999px; padding: 0 0.5em; background: var(--background-fill-secondary);
  border: 1px solid var(--border-color-primary); font-size: 0.85em; }
.status-added .badge, .status-updated .badge { border-color: var(--color-green-500, #22c55e); }
.status-failed .badge { border-color: var(--color-red-500, #ef4444); }
dl.stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(10rem, 1fr)); gap: 0.5rem; margin: 0; }
.stat { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.4rem 0.6rem; }
.stat dt { font-size: 0.8em; color: var(--body-text-color-subdued); }
.stat dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
@media (max-width: 640px) {
  .gradio-container { padding: 0.4rem !important; }
  #app-header h1 { font-size: 1.25rem; }
}
"""

# Citation markers live inside server-rendered HTML, so one delegated listener forwards a click
# to a hidden textbox + button pair that runs the viewer event: a citation ('cite-T-N') or a
# viewer's previous/next page ('cite-T-N@P'). Zoom and the page/text switch stay in the browser.
ON_LOAD_JS = r"""
() => {
  const ZOOMS = [1, 1.5, 2, 3];
  const open = (target) => {
    const box = document.querySelector('#cite-target textarea, #cite-target input');
    const button = document.querySelector('#cite-open');
    if (!box || !button) return;
    box.value = target;
    box.dispatchEvent(new Event('input', { bubbles: true }));
    setTimeout(() => button.click(), 0);
  };
  const classed = (element, pattern) => Array.from(element.classList).find((name) => pattern.test(name));
  document.addEventListener('click', (event) => {
    const button = event.target.closest ? event.target.closest('button') : null;
    if (!button) return;
    const viewer = button.closest('.viewer');
    if (button.classList.contains('cite')) {
      const target = classed(button, /^cite-\d+-\d+$/);
      if (!target) return;
      event.preventDefault();
      event.stopPropagation();
      open(target);
    } else if (button.classList.contains('page-nav')) {
      const target = classed(button, /^goto-\d+-\d+-\d+$/);
      if (!target) return;
      const [, turn, number, page] = target.split('-');
      open(`cite-${turn}-${number}@${page}`);
    } else if (button.classList.contains('page-zoom') && viewer) {
      const frame = viewer.querySelector('.page-frame');
      const now = parseFloat(frame.style.getPropertyValue('--zoom') || '1');
      let index = Math.max(0, ZOOMS.indexOf(now));
      if (button.classList.contains('zoom-in')) index = Math.min(ZOOMS.length - 1, index + 1);
      else if (button.classList.contains('zoom-out')) index = Math.max(0, index - 1);
      else index = 0;
      frame.style.setProperty('--zoom', String(ZOOMS[index]));
      frame.classList.toggle('zoomed', ZOOMS[index] > 1);
    } else if (button.classList.contains('viewer-mode') && viewer) {
      const text = viewer.classList.toggle('show-text');
      viewer.querySelectorAll('button.viewer-mode').forEach((mode) => {
        mode.textContent = text ? 'Show page' : 'Show text';
      });
      if (text) viewer.querySelector('#quote-target')?.scrollIntoView({ block: 'center' });
    }
  }, true);
}
"""

# The viewer opens at the quote: on the page image, its first highlighted line; in the text, the mark.
SCROLL_TO_QUOTE_JS = """
() => {
  const toPage = (image) => {
    const frame = image.closest('.page-frame');
    const top = image.offsetTop - frame.offsetTop + image.clientHeight * parseFloat(image.dataset.markTop);
    frame.scrollTop = Math.max(0, top - frame.clientHeight / 3);
    frame.scrollIntoView({ block: 'nearest' });
  };
  const show = (tries) => {
    const viewer = document.querySelector('#viewer .viewer');
    const image = viewer && viewer.classList.contains('has-pages')
      ? viewer.querySelector('.page-frame img[data-mark-top]') : null;
    if (image) {
      if (image.complete && image.clientHeight) toPage(image);
      else image.addEventListener('load', () => toPage(image), { once: true });
      return;
    }
    const mark = document.querySelector('#viewer #quote-target');
    if (mark && !(viewer && viewer.classList.contains('has-pages'))) { mark.scrollIntoView({ block: 'center' }); return; }
    if (!viewer && tries > 0) setTimeout(() => show(tries - 1), 100);
  };
  setTimeout(() => show(20), 50);
}
"""

# Each source passage scrolls (inside its own box) to its highlighted quote whenever sources change.
SOURCES_ON_LOAD_JS = """
const reveal = () => element.querySelectorAll('blockquote.passage mark.quote').forEach((mark) => {
  const box = mark.closest('blockquote');
  box.scrollTop += mark.getBoundingClientRect().top - box.getBoundingClientRect().top - 24;
});
watch('value', reveal);
reveal();
"""
