// media-worker dashboard: the little script the pages use, and nothing they need to be read.
// Live refresh: a <main data-refresh-seconds="N"> is re-fetched every N seconds while the tab
// is visible (the server sends only the content of <main> for X-Dashboard-Fragment: 1).
// A form with data-confirm asks before it is sent (the server asks again where it matters).
'use strict';

(function () {
  const main = document.querySelector('main[data-refresh-seconds]');
  if (main) {
    const seconds = Math.max(2, Number(main.getAttribute('data-refresh-seconds')) || 10);
    const status = document.createElement('p');
    status.className = 'refreshed';
    status.setAttribute('aria-live', 'polite');
    main.after(status);
    let busy = false;
    const refresh = async () => {
      if (busy || document.hidden) return;
      // Do not replace the page under someone typing into a form on it.
      if (main.contains(document.activeElement) && document.activeElement !== main) return;
      busy = true;
      try {
        const response = await fetch(location.href, {
          headers: { 'X-Dashboard-Fragment': '1' },
          credentials: 'same-origin',
          cache: 'no-store',
        });
        if (response.status === 401) {
          status.textContent = 'Signed out: reload the page to log in again.';
          return;
        }
        if (!response.ok) {
          status.textContent = 'Could not refresh (' + response.status + '); trying again.';
          return;
        }
        main.innerHTML = await response.text();
        status.textContent = 'Updated ' + new Date().toLocaleTimeString();
      } catch {
        status.textContent = 'Could not reach the server; trying again.';
      } finally {
        busy = false;
      }
    };
    setInterval(refresh, seconds * 1000);
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) void refresh();
    });
  }

  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    const question = form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();
