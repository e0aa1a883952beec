"""A local OpenAI-compatible chat server (aiohttp) with scripted answers, for litellm."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from mycopod.declarations import llm


@dataclass
class Answer:
    content: str = ""
    status: int = 200
    delay: float = 0.0


@dataclass
class ChatServer:
    answers: list[Answer]
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        answer = self.answers.pop(0) if self.answers else Answer(status=500)
        if answer.delay:
            await asyncio.sleep(answer.delay)
        if answer.status != 200:
            return web.json_response(
                {"error": {"message": f"scripted {answer.status}", "type": "test",
                           "code": answer.status}}, status=answer.status)
        return web.json_response({
            "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "created": 0,
            "model": body.get("model", "test-model"),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": answer.content}}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
        })


@asynccontextmanager
async def chat_server(answers: list[Answer]) -> AsyncIterator[ChatServer]:
    server = ChatServer(list(answers))
    app = web.Application()
    app.router.add_post("/v1/chat/completions", server.handle)
    # a handler still sleeping on a delayed answer when the client gave up (a timeout
    # test) is cancelled, not left running past the test
    runner = web.AppRunner(app, shutdown_timeout=0.1, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.url = f"http://127.0.0.1:{port}/v1"
    try:
        yield server
    finally:
        await runner.cleanup()
        # litellm's background logging task must not outlive the test's event loop
        await llm.shutdown()


def spec_json(**guest: Any) -> str:
    return json.dumps({"guests": [{"name": "web-1", "kind": "vm", **guest}]})
