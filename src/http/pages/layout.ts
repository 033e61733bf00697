import { escapeHtml } from '../../security/html-escape.ts';

/** A complete page; no inline script or style, so the strict CSP holds. Works without JavaScript. */
export function renderPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} · Latchkey</title>
<link rel="stylesheet" href="/assets/latchkey.css">
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>
`;
}

export function renderMessagePage(title: string, message: string): string {
  return renderPage(title, `<p>${escapeHtml(message)}</p>`);
}

export const stylesheet = `
body { font-family: system-ui, sans-serif; background: #f5f6f8; color: #1d2330; margin: 0; }
main { max-width: 28rem; margin: 4rem auto; background: #fff; padding: 2rem; border-radius: 8px;
  box-shadow: 0 1px 3px rgba(0, 0, 0, 0.12); }
h1 { font-size: 1.4rem; margin-top: 0; }
label { display: block; margin: 1rem 0 0.3rem; font-weight: 600; }
input[type=password], input[type=email] { width: 100%; box-sizing: border-box; padding: 0.6rem;
  border: 1px solid #c4c9d4; border-radius: 4px; font-size: 1rem; }
button { margin-top: 1.2rem; padding: 0.7rem 1.2rem; border: 0; border-radius: 4px; background: #2f5bd3;
  color: #fff; font-size: 1rem; cursor: pointer; }
.hint { color: #5b6272; font-size: 0.9rem; }
`;
