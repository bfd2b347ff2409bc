// preview.js — /admin/preview.html?key=KEY, the page the scheduler editor
// frames: a stand-in for the contractor's website with the embed snippet's
// script on it (/widget.js, data-scheduler=KEY). When /widget.js cannot be
// loaded (a server without web/widget.js, a proxy that blocks it), the page
// says so instead of showing a broken button.

const key = new URLSearchParams(location.search).get('key') || '';
const status = document.getElementById('widget-status');

function missing(text) {
  status.textContent = text;
  status.classList.add('missing');
}

if (!/^sch_[A-Za-z0-9_-]{1,64}$/.test(key)) {
  missing('No scheduler to preview: save the scheduler first.');
} else {
  const s = document.createElement('script');
  s.src = '/widget.js';
  s.async = true;
  s.dataset.scheduler = key;
  s.addEventListener('load', () => { status.textContent = ''; status.hidden = true; });
  s.addEventListener('error', () => missing('The booking widget is not installed on this server yet, so it cannot be shown here. The snippet will work once it is.'));
  document.getElementById('widget-slot').append(s);
}
