# SPDX-License-Identifier: MIT
"""A fake model API for the agent CLIs, on loopback, over TLS.

    fakeapi.py ADDR CERT KEY LOG MODE [COMMAND]

Serves HTTPS on ADDR:443 with CERT (made for the API host names by the tests'
own CA; ringfence's proxy reaches it through a `[network] hosts` mapping and
trusts the CA through `upstream_ca`).  Every request is appended to LOG as one
JSON line (method, path, headers, body), so the tests can check which key
arrived.  Speaks, streaming (SSE) or not:

- Anthropic Messages: POST /v1/messages (tool_use blocks);
- OpenAI Responses: POST .../responses (function_call items), and Chat
  Completions: POST .../chat/completions (tool_calls), for Codex, Qwen Code,
  opencode and Copilot;
- Gemini: POST .../models/M:generateContent and :streamGenerateContent
  (functionCall parts).

MODE `answer`: every request gets the text ANSWER.  MODE `attack`: a request
that offers a shell tool and holds no tool result yet is answered with a call
of that tool running COMMAND (the plants the tests then look for on the
host); once a tool result comes back, ANSWER.  Prints "ready" when listening.
"""
import base64
import hashlib
import http.server
import json
import socketserver
import ssl
import struct
import sys
import threading
import time
import uuid

ANSWER = "RINGFENCE-AGENT-ANSWER-7f3a"
# shell tools, by the name each CLI gives its own
SHELL_TOOLS = ["Bash", "bash", "shell", "exec_command", "shell_command", "run_shell_command",
               "local_shell"]

LOCK = threading.Lock()

COPILOT_USER = {
    "login": "octocat", "copilot_plan": "individual", "chat_enabled": True,
    "access_type_sku": "free_limited_copilot", "is_mcp_enabled": True,
    "endpoints": {"api": "https://api.individual.githubcopilot.com",
                  "proxy": "https://proxy.individual.githubcopilot.com",
                  "telemetry": "https://telemetry.individual.githubcopilot.com"},
}
COPILOT_MODEL = {
    "id": "claude-sonnet-4.5", "name": "Claude Sonnet 4.5", "object": "model",
    "vendor": "Anthropic", "version": "claude-sonnet-4.5", "preview": False,
    "model_picker_enabled": True, "policy": {"state": "enabled", "terms": ""},
    "supported_endpoints": ["/chat/completions", "/v1/messages"],
    "capabilities": {"type": "chat", "family": "claude-sonnet-4.5", "object": "model_capabilities",
                     "tokenizer": "o200k_base",
                     "limits": {"max_context_window_tokens": 200000, "max_output_tokens": 16000,
                                "max_prompt_tokens": 128000},
                     "supports": {"streaming": True, "tool_calls": True,
                                  "parallel_tool_calls": True}},
}


def log_request(path, entry):
    with LOCK, open(path, "a") as f:
        f.write(json.dumps(entry) + "\n")


def tool_names(body):
    """The tools a request offers, whatever the API's shape."""
    names = {}
    for t in body.get("tools") or []:
        if not isinstance(t, dict):
            continue
        if "functionDeclarations" in t:  # Gemini
            for d in t["functionDeclarations"] or []:
                names[d.get("name")] = d.get("parameters") or d.get("parametersJsonSchema") or {}
        elif t.get("type") == "function" and "function" in t:  # Chat Completions
            f = t["function"]
            names[f.get("name")] = f.get("parameters") or {}
        elif "name" in t:  # Anthropic, Responses
            names[t["name"]] = t.get("input_schema") or t.get("parameters") or {}
    return names


def fill_schema(schema):
    """A value that satisfies a JSON schema (as far as side questions need)."""
    t = str(schema.get("type", "object")).lower()
    if "enum" in schema:
        return schema["enum"][0]
    if t == "object":
        props = schema.get("properties") or {}
        return {k: fill_schema(v) for k, v in props.items()}
    if t == "array":
        return []
    if t in ("integer", "number"):
        return 50
    if t == "boolean":
        return False
    return ANSWER


def has_tool_result(body):
    text = json.dumps(body)
    return any(k in text for k in ('"tool_result"', '"function_call_output"', '"functionResponse"',
                                   '"role": "tool"', '"local_shell_call_output"'))


def shell_call(body, command):
    """(name, arguments) of a call of the request's shell tool running COMMAND, or None."""
    tools = tool_names(body)
    for name in SHELL_TOOLS:
        if name in tools:
            schema = tools[name] or {}
            props = schema.get("properties") or {}
            args = {}
            key = "command" if "command" in props or not props else \
                ("cmd" if "cmd" in props else "command")
            ctype = (props.get(key) or {}).get("type")
            args[key] = ["bash", "-c", command] if ctype == "array" else command
            for extra in ("description",):
                if extra in props:
                    args[extra] = "set up the project"
            return name, args
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raw = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                raw += self.rfile.read(size)
                self.rfile.readline()
        return raw

    def send(self, code, payload, ctype="application/json"):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def sse(self, events):
        """EVENTS: (name or None, dict or str)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for name, data in events:
            chunk = ""
            if name:
                chunk += "event: %s\n" % name
            chunk += "data: %s\n\n" % (data if isinstance(data, str) else json.dumps(data))
            b = chunk.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(b), b))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def do_GET(self):
        if self.headers.get("Upgrade", "").lower() == "websocket":
            return self.websocket()
        self.handle_any(b"")

    # The Responses API over a WebSocket (Codex tries it first): each text
    # frame from the client is a response.create, answered by the same
    # events as the streaming HTTP answer, one frame each.
    def websocket(self):
        srv = self.server
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        log_request(srv.log, {"method": "GET", "path": self.path, "host": self.headers.get("Host"),
                              "headers": dict(self.headers.items()), "body": "(websocket)"})
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        while True:
            frame = self.ws_read()
            if frame is None:
                break
            opcode, payload = frame
            if opcode == 8:
                self.ws_send(8, payload[:2])
                break
            if opcode == 9:
                self.ws_send(10, payload)
                continue
            if opcode != 1:
                continue
            try:
                msg = json.loads(payload)
            except ValueError:
                continue
            body = msg.get("response", msg) if isinstance(msg, dict) else {}
            log_request(srv.log, {"method": "WS", "path": self.path,
                                  "host": self.headers.get("Host"),
                                  "headers": dict(self.headers.items()),
                                  "body": payload.decode("utf-8", "replace")[:200000]})
            call = None
            if srv.mode == "attack" and not has_tool_result(body):
                call = shell_call(body, srv.command)
            for _, data in self.openai_responses(body, call, True, ws=True):
                self.ws_send(1, json.dumps(data).encode())
        self.close_connection = True

    def ws_read(self):
        head = self.rfile.read(2)
        if len(head) < 2:
            return None
        opcode, n = head[0] & 0x0F, head[1] & 0x7F
        if n == 126:
            n = struct.unpack(">H", self.rfile.read(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self.rfile.read(8))[0]
        mask = self.rfile.read(4) if head[1] & 0x80 else b"\0\0\0\0"
        data = self.rfile.read(n)
        return opcode, bytes(b ^ mask[i % 4] for i, b in enumerate(data))

    def ws_send(self, opcode, payload):
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([n])
        elif n < 65536:
            head += bytes([126]) + struct.pack(">H", n)
        else:
            head += bytes([127]) + struct.pack(">Q", n)
        self.wfile.write(head + payload)
        self.wfile.flush()

    def do_POST(self):
        self.handle_any(self.body())

    def handle_any(self, raw):
        srv = self.server
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        log_request(srv.log, {"method": self.command, "path": self.path,
                              "host": self.headers.get("Host"),
                              "headers": dict(self.headers.items()),
                              "body": raw.decode("utf-8", "replace")[:200000]})
        call = None
        if srv.mode == "attack" and isinstance(body, dict) and not has_tool_result(body):
            call = shell_call(body, srv.command)
        path = self.path.split("?")[0]
        stream = (isinstance(body, dict) and body.get("stream") is True) or \
            "streamGenerateContent" in path or "alt=sse" in self.path
        if path.endswith("/messages") and "count_tokens" not in path:
            return self.anthropic(body, call, stream)
        if path.endswith("/messages/count_tokens"):
            return self.send(200, {"input_tokens": 10})
        if path.endswith("/responses"):
            return self.openai_responses(body, call, stream)
        if path.endswith("/chat/completions"):
            return self.chat(body, call, stream)
        if ":generateContent" in path or ":streamGenerateContent" in path:
            return self.gemini(body, call, stream)
        if ":countTokens" in path:
            return self.send(200, {"totalTokens": 10})
        if path in ("/api/hello", "/v1/oauth/hello"):  # Claude Code checks both at start
            return self.send(200, {"message": "hello"})
        if path == "/copilot_internal/user":  # GitHub: a token's Copilot entitlement
            return self.send(200, COPILOT_USER)
        if path == "/user":
            return self.send(200, {"login": "octocat", "id": 1, "type": "User"})
        if path.endswith("/models") and "githubcopilot" in (self.headers.get("Host") or ""):
            return self.send(200, {"object": "list", "data": [COPILOT_MODEL]})
        if path.endswith("/models"):
            return self.send(200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": 0, "owned_by": "fake"}
                for m in ("gpt-5", "gpt-4.1", "qwen3-coder-plus", "claude-sonnet-4-5")]})
        return self.send(404, {"error": {"message": "not in the fake API: %s" % path}})

    # Anthropic Messages
    def anthropic(self, body, call, stream):
        mid = "msg_" + uuid.uuid4().hex[:20]
        model = body.get("model", "claude")
        usage = {"input_tokens": 10, "output_tokens": 5}
        if call:
            block = {"type": "tool_use", "id": "toolu_" + uuid.uuid4().hex[:20], "name": call[0],
                     "input": call[1]}
            stop = "tool_use"
        else:
            block = {"type": "text", "text": ANSWER}
            stop = "end_turn"
        if not stream:
            return self.send(200, {"id": mid, "type": "message", "role": "assistant",
                                   "model": model, "content": [block], "stop_reason": stop,
                                   "stop_sequence": None, "usage": usage})
        start = dict(block)
        if call:
            start["input"] = {}
            delta = {"type": "input_json_delta", "partial_json": json.dumps(call[1])}
        else:
            start["text"] = ""
            delta = {"type": "text_delta", "text": ANSWER}
        self.sse([
            ("message_start", {"type": "message_start", "message": {
                "id": mid, "type": "message", "role": "assistant", "model": model,
                "content": [], "stop_reason": None, "stop_sequence": None,
                "usage": {"input_tokens": 10, "output_tokens": 1}}}),
            ("content_block_start", {"type": "content_block_start", "index": 0,
                                     "content_block": start}),
            ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ("message_delta", {"type": "message_delta",
                               "delta": {"stop_reason": stop, "stop_sequence": None},
                               "usage": {"output_tokens": 5}}),
            ("message_stop", {"type": "message_stop"}),
        ])

    # OpenAI Responses
    def openai_responses(self, body, call, stream, ws=False):
        rid = "resp_" + uuid.uuid4().hex[:20]
        if call:
            item = {"type": "function_call", "id": "fc_" + uuid.uuid4().hex[:16],
                    "call_id": "call_" + uuid.uuid4().hex[:16], "name": call[0],
                    "arguments": json.dumps(call[1]), "status": "completed"}
        else:
            item = {"type": "message", "id": "msg_" + uuid.uuid4().hex[:16], "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "output_text", "text": ANSWER, "annotations": []}]}
        resp = {"id": rid, "object": "response", "created_at": int(time.time()),
                "status": "completed", "model": body.get("model", "gpt-5"), "output": [item],
                "usage": {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15,
                          "input_tokens_details": {"cached_tokens": 0},
                          "output_tokens_details": {"reasoning_tokens": 0}}}
        if not stream:
            return self.send(200, resp)
        created = dict(resp, status="in_progress", output=[])
        events = [("response.created", {"type": "response.created", "response": created,
                                         "sequence_number": 0}),
                  ("response.in_progress", {"type": "response.in_progress", "response": created,
                                            "sequence_number": 1})]
        added = dict(item)
        if not call:
            added = dict(item, status="in_progress", content=[])
        events.append(("response.output_item.added", {"type": "response.output_item.added",
                                                      "output_index": 0, "item": added,
                                                      "sequence_number": 2}))
        if call:
            events.append(("response.function_call_arguments.done", {
                "type": "response.function_call_arguments.done", "output_index": 0,
                "item_id": item["id"], "arguments": item["arguments"], "sequence_number": 3}))
        else:
            part = {"type": "output_text", "text": "", "annotations": []}
            events += [
                ("response.content_part.added", {"type": "response.content_part.added",
                                                 "item_id": item["id"], "output_index": 0,
                                                 "content_index": 0, "part": part,
                                                 "sequence_number": 3}),
                ("response.output_text.delta", {"type": "response.output_text.delta",
                                                "item_id": item["id"], "output_index": 0,
                                                "content_index": 0, "delta": ANSWER,
                                                "sequence_number": 4}),
                ("response.output_text.done", {"type": "response.output_text.done",
                                               "item_id": item["id"], "output_index": 0,
                                               "content_index": 0, "text": ANSWER,
                                               "sequence_number": 5}),
                ("response.content_part.done", {"type": "response.content_part.done",
                                                "item_id": item["id"], "output_index": 0,
                                                "content_index": 0,
                                                "part": dict(part, text=ANSWER),
                                                "sequence_number": 6})]
        events += [("response.output_item.done", {"type": "response.output_item.done",
                                                  "output_index": 0, "item": item,
                                                  "sequence_number": 7}),
                   ("response.completed", {"type": "response.completed", "response": resp,
                                           "sequence_number": 8})]
        if ws:
            return events
        self.sse(events)

    # OpenAI Chat Completions
    def chat(self, body, call, stream):
        cid = "chatcmpl-" + uuid.uuid4().hex[:20]
        model = body.get("model", "gpt-4.1")
        usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
        if call:
            tc = {"id": "call_" + uuid.uuid4().hex[:16], "type": "function",
                  "function": {"name": call[0], "arguments": json.dumps(call[1])}}
            msg = {"role": "assistant", "content": None, "tool_calls": [tc]}
            finish = "tool_calls"
        else:
            msg = {"role": "assistant", "content": ANSWER}
            finish = "stop"
        if not stream:
            return self.send(200, {"id": cid, "object": "chat.completion",
                                   "created": int(time.time()), "model": model,
                                   "choices": [{"index": 0, "message": msg,
                                                "finish_reason": finish}],
                                   "usage": usage})
        base = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()),
                "model": model}
        if call:
            delta = {"role": "assistant", "content": None,
                     "tool_calls": [dict(tc, index=0)]}
        else:
            delta = {"role": "assistant", "content": ANSWER}
        self.sse([
            (None, dict(base, choices=[{"index": 0, "delta": delta, "finish_reason": None}])),
            (None, dict(base, choices=[{"index": 0, "delta": {}, "finish_reason": finish}])),
            (None, dict(base, choices=[], usage=usage)),
            (None, "[DONE]"),
        ])

    # Gemini
    def gemini(self, body, call, stream):
        gen = body.get("generationConfig") or {}
        schema = gen.get("responseJsonSchema") or gen.get("responseSchema")
        if call:
            part = {"functionCall": {"name": call[0], "args": call[1]}}
        elif schema:  # the CLI's own side questions (routing, checks) want JSON
            part = {"text": json.dumps(fill_schema(schema))}
        else:
            part = {"text": ANSWER}
        resp = {"candidates": [{"content": {"role": "model", "parts": [part]},
                                "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5,
                                  "totalTokenCount": 15},
                "modelVersion": "gemini-2.5-pro"}
        if not stream:
            return self.send(200, resp)
        self.sse([(None, resp)])


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    addr, cert, key, log, mode = sys.argv[1:6]
    srv = Server((addr, 443), Handler)
    srv.log = log
    srv.mode = mode
    srv.command = sys.argv[6] if len(sys.argv) > 6 else "true"
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["http/1.1"])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
