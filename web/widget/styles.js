// styles.js — the booking dialog's stylesheet, adopted by the widget's shadow
// root as a constructed stylesheet (so no <style> element and no style=
// attribute: it works under a host page's strict style-src). Sizes are px or
// em, never rem (rem follows the host page's root font size). The host's
// inherited properties are cut off by `all: initial` on :host; !important
// there beats the page's !important rules on our element (the shadow tree's
// important declarations win). Colours meet WCAG 2.1 AA; the scheduler's
// colour comes in as --ap-brand / --ap-on-brand / --ap-brand-text from
// widget.js. Full screen under 640 px; motion only when the visitor did not
// ask for less.
export const css = `
:host { all: initial !important; display: block !important; position: static !important;
  visibility: visible !important; opacity: 1 !important; }
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0; }

dialog.dlg { padding: 0; border: 0; border-radius: 14px; width: min(560px, calc(100vw - 32px));
  max-width: none; max-height: calc(100vh - 32px); max-height: calc(100dvh - 32px); color: #1a1a1a; background: #fff;
  font: 400 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  text-align: left; letter-spacing: normal; word-spacing: normal; text-transform: none;
  box-shadow: 0 12px 48px rgba(0, 0, 0, .35); overflow: hidden; }
dialog.dlg::backdrop { background: rgba(16, 20, 28, .6); }
dialog.dlg[open] { display: flex; }
@media (prefers-reduced-motion: no-preference) {
  dialog.dlg[open] { animation: ap-in .16s ease-out; }
  @keyframes ap-in { from { opacity: 0; transform: translateY(12px); } to { opacity: 1; transform: none; } }
}
@media (max-width: 640px) {
  dialog.dlg { width: 100vw; height: 100vh; height: 100dvh; max-height: none; margin: 0; inset: 0; border-radius: 0; }
}

.frame { display: flex; flex-direction: column; width: 100%; max-height: inherit; min-height: 0; margin: 0; }
.top { display: flex; align-items: center; gap: 8px; padding: 8px 8px 8px 20px; border-bottom: 1px solid #d6d9de; }
.title { flex: 1; min-width: 0; margin: 0; font-size: 16px; font-weight: 700; line-height: 1.3; overflow-wrap: anywhere; }
.x { flex: none; width: 44px; height: 44px; border: 0; border-radius: 8px; background: transparent; color: #1a1a1a;
  font: inherit; font-size: 28px; line-height: 1; cursor: pointer; }
.x:hover { background: #eef0f3; }
.body { flex: 1 1 auto; min-height: 0; overflow-y: auto; overscroll-behavior: contain; padding: 16px 20px 20px; }
.foot { display: flex; gap: 12px; padding: 12px 20px; border-top: 1px solid #d6d9de; background: #fff; }
.foot .primary { margin-left: auto; }
.progress { margin: 0 0 4px; font-size: 14px; color: #555; }
h2 { margin: 0 0 12px; font-size: 22px; line-height: 1.3; font-weight: 700; }
h3 { margin: 20px 0 8px; font-size: 17px; line-height: 1.3; }
p { margin: 0 0 12px; }
a { color: var(--ap-brand-text, #0b5fff); text-underline-offset: 2px; }
[tabindex="-1"]:focus { outline: none; }
:focus-visible { outline: 3px solid var(--ap-brand-text, #0b5fff); outline-offset: 2px; }

.btn { display: inline-flex; align-items: center; justify-content: center; gap: 6px; min-height: 48px; min-width: 44px;
  padding: 10px 20px; border-radius: 10px; border: 2px solid transparent; font: inherit; font-weight: 600;
  cursor: pointer; text-decoration: none; }
.primary { background: var(--ap-brand, #0b5fff); color: var(--ap-on-brand, #fff); }
.primary:hover { filter: brightness(.92); }
.primary[disabled] { cursor: progress; opacity: .75; }
.secondary { background: #fff; color: #1a1a1a; border-color: #767676; }
.secondary:hover { background: #f1f3f5; }
.link { background: none; border: 0; padding: 0 4px; min-height: 44px; color: var(--ap-brand-text, #0b5fff);
  font: inherit; text-decoration: underline; text-underline-offset: 2px; cursor: pointer; }
.wide { width: 100%; }

fieldset { border: 0; margin: 0 0 16px; padding: 0; min-width: 0; }
legend { padding: 0; margin: 0 0 8px; font-weight: 600; }
.field { margin: 0 0 16px; }
.field label, .label { display: block; margin: 0 0 4px; font-weight: 600; }
.opt { font-weight: 400; color: #555; }
.hint { margin: 2px 0 4px; font-size: 14px; color: #555; }
input[type=text], input[type=tel], input[type=email], textarea, select {
  display: block; width: 100%; min-height: 48px; padding: 10px 12px; border: 1px solid #767676; border-radius: 8px;
  background: #fff; color: #1a1a1a; font: inherit; font-size: 16px; }
textarea { min-height: 96px; resize: vertical; }
input[aria-invalid=true], textarea[aria-invalid=true] { border: 2px solid #b3261e; }
.row { display: grid; grid-template-columns: 1fr; gap: 0 12px; }
@media (min-width: 480px) { .row.two { grid-template-columns: 2fr 1fr; } .row.three { grid-template-columns: 2fr 1fr 1fr; } }
.err { margin: 4px 0 0; color: #b3261e; font-size: 15px; font-weight: 600; }
.err:empty { display: none; }
.err::before, .alert::before { content: "⚠ "; }
.alert { margin: 0 0 16px; padding: 12px 14px; border: 2px solid #b3261e; border-left-width: 6px; border-radius: 8px;
  background: #fdecea; color: #1a1a1a; }
.alert:empty { display: none; }
.note { margin: 0 0 16px; padding: 12px 14px; border: 1px solid #b58100; border-left-width: 6px; border-radius: 8px;
  background: #fff7e0; }
.ok-box { margin: 0 0 16px; padding: 12px 14px; border: 1px solid #146c2e; border-left-width: 6px; border-radius: 8px;
  background: #e9f6ec; }
.ok-box::before { content: "✓ "; font-weight: 700; color: #146c2e; }

.choices { display: grid; gap: 8px; margin: 0; padding: 0; }
.choices.days { display: flex; gap: 8px; overflow-x: auto; scroll-snap-type: x proximity; padding: 4px 2px 8px;
  margin: 0 -2px; overscroll-behavior-x: contain; }
.days .choice { flex: 0 0 116px; gap: 10px; padding: 10px 12px; scroll-snap-align: start; }
.days .choice:has(input:checked) { padding: 9px 11px; }
.days .sub { white-space: nowrap; }
.choice { position: relative; display: flex; align-items: flex-start; gap: 12px; min-height: 48px; padding: 12px 14px;
  border: 1px solid #767676; border-radius: 10px; background: #fff; cursor: pointer; }
.choice:hover { border-color: #1a1a1a; }
.choice input { flex: none; width: 22px; height: 22px; margin: 1px 0 0; accent-color: var(--ap-brand, #0b5fff); cursor: inherit; }
.choice:has(input:checked) { border: 2px solid var(--ap-brand-text, #0b5fff); padding: 11px 13px;
  background: #eef3ff; background: color-mix(in srgb, var(--ap-brand, #0b5fff) 9%, #fff); }
.choice:has(input:focus-visible) { outline: 3px solid var(--ap-brand-text, #0b5fff); outline-offset: 2px; }
.choice input:focus-visible { outline: none; }
.choice:has(input:disabled) { cursor: not-allowed; background: #f3f4f6; border-style: dashed; }
.choice .main { display: block; font-weight: 600; }
.choice .sub { display: block; font-size: 14px; color: #555; font-weight: 400; }

.status { display: flex; align-items: center; gap: 10px; margin: 16px 0; color: #333; }
.spinner { width: 22px; height: 22px; border: 3px solid #c9ced6; border-top-color: var(--ap-brand, #0b5fff); border-radius: 50%; }
@media (prefers-reduced-motion: no-preference) { .spinner { animation: ap-spin .8s linear infinite; } }
@keyframes ap-spin { to { transform: rotate(360deg); } }

dl.summary { margin: 0 0 16px; }
.summary .item { padding: 8px 0; border-bottom: 1px solid #e3e5e8; }
.summary dt { margin: 0; font-size: 14px; color: #555; }
.summary dd { display: flex; align-items: baseline; gap: 12px; margin: 0; }
.summary .value { flex: 1 1 auto; min-width: 0; overflow-wrap: anywhere; }
.summary .link { flex: none; }
.ref { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 15px; overflow-wrap: anywhere; }
.actions { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0 16px; }
.check { display: flex; align-items: flex-start; gap: 12px; min-height: 44px; margin: 0 0 16px; cursor: pointer; }
.check input { flex: none; width: 22px; height: 22px; margin: 2px 0 0; accent-color: var(--ap-brand, #0b5fff); }
.call { font-weight: 700; }
`;
