/**
 * The chat page served at `GET /`: one static HTML document (no framework, no build step) that streams from
 * `/v1/chat/completions`, stops a reply with an AbortController, shows the model's name and speed, and renders
 * replies as text: code fences, inline code and bold become DOM nodes built with `textContent`, never HTML, so a
 * reply containing markup is shown, not run. It ships in the package as this module's string.
 *
 * @since 0.2.0
 */

/**
 * The page.
 *
 * @category constants
 * @since 0.2.0
 */
export const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>effect-llama chat</title>
<style>
  :root { color-scheme: light dark; --line: #8884; --accent: #3b6fd4; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 system-ui, sans-serif; display: flex; flex-direction: column; height: 100vh; }
  header { display: flex; gap: 1rem; align-items: center; padding: .5rem 1rem; border-bottom: 1px solid var(--line); }
  header h1 { font-size: 1rem; margin: 0; }
  header .info { opacity: .75; font-size: .85rem; }
  header input { margin-left: auto; width: 14rem; }
  main { flex: 1; overflow-y: auto; padding: 1rem; }
  .message { max-width: 48rem; margin: 0 auto .75rem; padding: .5rem .75rem; border-radius: .5rem; white-space: pre-wrap; overflow-wrap: anywhere; }
  .message.user { background: #3b6fd41a; }
  .message.assistant { border: 1px solid var(--line); }
  .message.error { border: 1px solid #c33; color: #c33; }
  .message pre { background: #8882; padding: .5rem; border-radius: .25rem; overflow-x: auto; }
  .message code { font-family: ui-monospace, monospace; font-size: .9em; }
  form { display: flex; gap: .5rem; padding: .75rem 1rem; border-top: 1px solid var(--line); }
  textarea { flex: 1; resize: none; font: inherit; padding: .5rem; }
  button { font: inherit; padding: .5rem 1rem; }
</style>
</head>
<body>
<header>
  <h1>effect-llama</h1>
  <span class="info">model: <span id="model">…</span></span>
  <span class="info">speed: <span id="speed">–</span></span>
  <input id="key" type="password" placeholder="API key (if the server needs one)" autocomplete="off">
</header>
<main id="messages"></main>
<form id="form">
  <textarea id="input" rows="2" placeholder="Message (Enter sends, Shift+Enter for a new line)"></textarea>
  <button id="send" type="submit">Send</button>
  <button id="stop" type="button" disabled>Stop</button>
</form>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const messages = $("messages"), input = $("input"), send = $("send"), stop = $("stop"), keyField = $("key");
const history = [];
let model = "", controller = null;

keyField.value = localStorage.getItem("effect-llama-key") || "";
keyField.addEventListener("change", () => { localStorage.setItem("effect-llama-key", keyField.value); loadModel(); });
const headers = () => {
  const h = { "content-type": "application/json" };
  if (keyField.value !== "") h.authorization = "Bearer " + keyField.value;
  return h;
};

async function loadModel() {
  try {
    const response = await fetch("/v1/models", { headers: headers() });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error ? body.error.message : response.statusText);
    model = body.data[0].id;
    $("model").textContent = model;
  } catch (error) {
    $("model").textContent = "unavailable (" + error.message + ")";
  }
}

// Markdown-safe rendering: only text nodes and elements made here; the reply never reaches innerHTML.
function inline(parent, text) {
  const pattern = /(\`[^\`\\n]+\`|\\*\\*[^*\\n]+\\*\\*)/g;
  let last = 0, match;
  while ((match = pattern.exec(text)) !== null) {
    if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
    const token = match[0];
    const element = document.createElement(token.startsWith("\`") ? "code" : "strong");
    element.textContent = token.startsWith("\`") ? token.slice(1, -1) : token.slice(2, -2);
    parent.appendChild(element);
    last = match.index + token.length;
  }
  if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
}
function render(element, text) {
  element.replaceChildren();
  const parts = text.split("\`\`\`");
  parts.forEach((part, i) => {
    if (i % 2 === 1) {
      const pre = document.createElement("pre"), code = document.createElement("code");
      code.textContent = part.replace(/^[\\w-]*\\n/, "");
      pre.appendChild(code);
      element.appendChild(pre);
    } else {
      inline(element, part);
    }
  });
}

function bubble(role, text) {
  const element = document.createElement("div");
  element.className = "message " + role;
  render(element, text);
  messages.appendChild(element);
  messages.scrollTop = messages.scrollHeight;
  return element;
}

async function* events(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\\n\\n")) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of frame.split("\\n")) {
        if (line.startsWith("data: ")) yield line.slice(6);
      }
    }
  }
}

async function ask(text) {
  history.push({ role: "user", content: text });
  bubble("user", text);
  const reply = bubble("assistant", "");
  controller = new AbortController();
  send.disabled = true;
  stop.disabled = false;
  let content = "", pieces = 0, first = 0, scheduled = false;
  const show = () => { scheduled = false; render(reply, content); messages.scrollTop = messages.scrollHeight; };
  const speed = (tokens) => {
    const seconds = (performance.now() - first) / 1000;
    if (first > 0 && seconds > 0 && tokens > 1) $("speed").textContent = ((tokens - 1) / seconds).toFixed(1) + " tokens/s";
  };
  try {
    const response = await fetch("/v1/chat/completions", {
      method: "POST",
      headers: headers(),
      body: JSON.stringify({ model, messages: history, stream: true, stream_options: { include_usage: true } }),
      signal: controller.signal
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new Error(body.error ? body.error.message : response.status + " " + response.statusText);
    }
    for await (const data of events(response)) {
      if (data === "[DONE]") break;
      const chunk = JSON.parse(data);
      if (chunk.error) throw new Error(chunk.error.message);
      if (chunk.usage) speed(chunk.usage.completion_tokens);
      const delta = chunk.choices && chunk.choices[0] ? chunk.choices[0].delta : null;
      if (delta && delta.content) {
        if (first === 0) first = performance.now();
        content += delta.content;
        pieces++;
        speed(pieces);
        if (!scheduled) { scheduled = true; requestAnimationFrame(show); }
      }
    }
  } catch (error) {
    if (error.name !== "AbortError") {
      reply.classList.add("error");
      content += (content === "" ? "" : "\\n") + "[error: " + error.message + "]";
    } else {
      content += " [stopped]";
    }
  } finally {
    show();
    reply.dataset.done = "true";
    history.push({ role: "assistant", content });
    controller = null;
    send.disabled = false;
    stop.disabled = true;
    input.focus();
  }
}

$("form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (text === "" || controller !== null) return;
  input.value = "";
  ask(text);
});
input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); $("form").requestSubmit(); }
});
stop.addEventListener("click", () => { if (controller !== null) controller.abort(); });
loadModel();
</script>
</body>
</html>
`
