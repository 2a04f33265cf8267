// SPDX-License-Identifier: MIT
// A classic script that runs before the modules: when one of them fails to load or throws
// (an old browser, a broken build), the page says so instead of staying blank.
window.addEventListener('error', e => {
  if (window.ltprof && window.ltprof.ready) return; // later errors belong to a view
  const box = document.getElementById('welcome');
  if (!box) return;
  const p = document.createElement('p');
  p.className = 'error';
  p.setAttribute('data-test', 'error');
  p.textContent = 'The viewer could not start: ' + (e.message || 'a script failed to load') +
    (e.filename ? ` (${e.filename.split('/').pop()}:${e.lineno})` : '');
  box.append(p);
});
