"""The paper's LVLM judge, served locally by Ollama (no data leaves the premises).

Every call: structured output against a JSON schema, temperature 0, a fixed seed, `num_ctx` set
(the default context silently truncates long prompts), an explicit timeout (the client has none
by default), bounded retries with exponential backoff. Every reply is validated. A grade that
cannot be obtained is inconclusive, with the reason; it is never guessed.
"""

from __future__ import annotations

import base64
import io
import json
import os
import time

import httpx
import ollama
from pydantic import Field

from forgetctl.errors import InputError
from forgetctl.evaluation.judging import Grade, GradeRequest, Judge, prompt_hash, rubric_prompt
from forgetctl.host.hookspecs import hookimpl
from forgetctl.methods import MethodOptions

SCORE_SCHEMA = {
    "type": "object",
    "properties": {"score": {"type": "integer", "minimum": 1, "maximum": 5}},
    "required": ["score"],
}
DEFAULT_MODEL = "qwen2.5vl:7b"
RETRYABLE = (ollama.ResponseError, ConnectionError, httpx.TimeoutException, httpx.TransportError, ValueError)


class InvalidReply(ValueError):
    """The server answered, but not with a grade."""


def parse_score(content: str) -> int:
    try:
        data = json.loads(content)
    except json.JSONDecodeError:
        raise InvalidReply(f"reply is not JSON: {content[:80]!r}") from None
    score = data.get("score") if isinstance(data, dict) else None
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise InvalidReply(f"reply does not match the schema (integer score 1-5): {content[:80]!r}")
    return score


class OllamaJudge(Judge):
    name = "ollama"

    class Options(MethodOptions):
        model: str | None = Field(None, description=f"Ollama model (default: FORGETCTL_JUDGE_MODEL or {DEFAULT_MODEL})")
        host: str | None = Field(None, description="server URL (default: OLLAMA_HOST or 127.0.0.1:11434)")
        timeout: float = Field(120.0, gt=0, description="seconds to wait for one grade")
        retries: int = Field(3, ge=0, description="tries after a failed or invalid reply")
        backoff: float = Field(1.0, ge=0, description="seconds before the first retry, doubled each time")
        num_ctx: int = Field(8192, ge=512, description="context tokens (the server's default truncates)")
        seed: int = Field(0, description="sampling seed (temperature is 0)")

    def __init__(self, options: MethodOptions | None = None):
        super().__init__(options)
        o = self.options
        self.model = o.model or os.environ.get("FORGETCTL_JUDGE_MODEL", DEFAULT_MODEL)
        self.host = o.host or os.environ.get("OLLAMA_HOST", "http://127.0.0.1:11434")
        self.timeout, self.retries, self.backoff = o.timeout, o.retries, o.backoff
        self.options_sent = {"temperature": 0, "seed": o.seed, "num_ctx": o.num_ctx, "num_predict": 32}
        self.label = f"ollama {self.model} at {self.host}"
        self._client = ollama.Client(host=self.host, timeout=o.timeout)
        self._model_info: dict | None = None

    def model_info(self) -> dict:
        """The judge model's digest and whether it takes images (asked once, over HTTP)."""
        if self._model_info is None:
            info = {"model": self.model, "digest": None, "vision": False}
            try:
                listed = self._client.list()
                info["digest"] = next((m.digest for m in listed.models if m.model == self.model), None)
                info["vision"] = "vision" in (self._client.show(self.model).capabilities or [])
            except RETRYABLE as exc:
                info["error"] = f"{type(exc).__name__}: {str(exc)[:120]}"
            self._model_info = info
        return self._model_info

    def preflight(self) -> None:
        info = self.model_info()
        if "error" in info:
            raise InputError(
                f"cannot reach the Ollama judge at {self.host} ({info['error']}); start `ollama serve` there or set OLLAMA_HOST"
            )
        if info["digest"] is None:
            raise InputError(f"the judge model {self.model} is not on the Ollama server at {self.host}; run `ollama pull {self.model}` there")

    def describe(self) -> dict:
        return {**super().describe(), **self.model_info(), "options": self.options_sent, "timeout_s": self.timeout}

    def _message(self, request: GradeRequest, prompt: str) -> dict:
        message = {"role": "user", "content": prompt}
        if request.rubric == "informativeness" and request.image is not None and self.model_info()["vision"]:
            buffer = io.BytesIO()
            request.image.save(buffer, format="PNG")
            message["images"] = [base64.b64encode(buffer.getvalue()).decode()]
        return message

    def grade(self, request: GradeRequest) -> Grade:
        prompt = rubric_prompt(request.rubric, request.response, request.entity, request.summary, request.reference)
        evidence = {
            "model": self.model, "digest": self.model_info()["digest"], "options": self.options_sent,
            "prompt_sha256": prompt_hash(prompt), "attempts": [],
        }
        message = self._message(request, prompt)
        evidence["image_sent"] = "images" in message
        reason = "no attempt made"
        for attempt in range(self.retries):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                reply = self._client.chat(
                    model=self.model, messages=[message], format=SCORE_SCHEMA, options=self.options_sent, stream=False
                )
                content = reply.message.content or ""
                evidence["attempts"].append({"raw": content, "done_reason": reply.done_reason})
                if reply.done_reason == "length":
                    raise InvalidReply("reply was truncated (done_reason=length)")
                return Grade(request.rubric, parse_score(content), self.name, evidence=evidence)
            except RETRYABLE as exc:
                reason = f"{type(exc).__name__}: {str(exc)[:160]}"
                if not isinstance(exc, InvalidReply):
                    evidence["attempts"].append({"error": reason})
        return Grade(request.rubric, None, self.name, reason=f"after {self.retries} attempts: {reason}", evidence=evidence)


@hookimpl
def register_judges(register):
    register(OllamaJudge)
