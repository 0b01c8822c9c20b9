// dom.js: building the pages without HTML strings. Text always goes in as textContent, so a
// name such as <img src=x> is shown as text, never run.

// h creates an element: h('button', {class: 'primary', onclick: f}, 'Join').
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// show replaces the page's content.
export function show(...children) {
  const app = document.getElementById('app');
  app.replaceChildren(...children.flat());
  const focus = app.querySelector('[autofocus]') || app.querySelector('h1');
  if (focus) {
    if (focus.tagName === 'H1') focus.setAttribute('tabindex', '-1');
    focus.focus({ preventScroll: true });
  }
}

// message is a page with one sentence (errors, ends).
export function message(title, text, ...actions) {
  show(h('main', { class: 'card', role: 'main' },
    h('h1', {}, title),
    h('p', { id: 'message', class: 'message' }, text),
    actions.length ? h('div', { class: 'actions' }, ...actions) : null));
}
