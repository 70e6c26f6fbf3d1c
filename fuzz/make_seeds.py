#!/usr/bin/env python3
"""Writes the seed inputs under fuzz/seeds/ from the repo's recorded fixtures and scenarios.

Run from the repo root: python3 fuzz/make_seeds.py
"""
import glob
import json
import os
import random

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(ROOT, "fuzz", "seeds")
FIX = os.path.join(ROOT, "tests", "fixtures")
SCEN = os.path.join(ROOT, "tests", "scenarios")


def write(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def sse(events):
    out = ""
    for name, data in events:
        if name:
            out += f"event: {name}\n"
        out += f"data: {json.dumps(data, separators=(',', ':'))}\n\n"
    return out


def gemini_stream(words, tool=False):
    evs = []
    for i, w in enumerate(words):
        cand = {"content": {"parts": [{"text": w}], "role": "model"}, "index": 0}
        chunk = {"modelVersion": "gemini-2.5-flash", "responseId": "fuzz-resp"}
        if i == len(words) - 1:
            cand["finishReason"] = "STOP"
            chunk["usageMetadata"] = {"promptTokenCount": 4, "candidatesTokenCount": len(words),
                                      "totalTokenCount": 4 + len(words),
                                      "cachedContentTokenCount": 1, "thoughtsTokenCount": 2}
        chunk["candidates"] = [cand]
        evs.append(("", chunk))
    if tool:
        evs.append(("", {"candidates": [{"content": {"parts": [{"functionCall": {
            "name": "get_weather", "args": {"city": "Paris"}}}], "role": "model"},
            "finishReason": "STOP", "index": 0}]}))
    return sse(evs)


def main():
    rng = random.Random(7)
    small = lambda p: os.path.getsize(p) <= 5000
    openai = sorted(p for p in glob.glob(os.path.join(FIX, "openai-python", "*.sse")) if small(p))
    anthropic = sorted(glob.glob(os.path.join(FIX, "anthropic-sdk-python", "*.sse")))
    gemini = {"text.sse": gemini_stream(["Hello ", "there, ", "gateway."]),
              "tool.sse": gemini_stream(["Checking."], tool=True)}
    for p in openai:
        data = open(p, "rb").read()
        write("stream_openai", os.path.basename(p)[:12], data)
        write("stream_azure", os.path.basename(p)[:12], data)
    for p in anthropic:
        write("stream_anthropic", os.path.basename(p), open(p, "rb").read())
    for name, text in gemini.items():
        write("stream_gemini", name, text)

    # sse_framing: [kind index, n cuts, cuts..., body]; ProviderKind::ALL order is
    # openai, azure_openai, anthropic, gemini.
    bodies = [(0, openai[0]), (1, openai[1]), (2, anthropic[0]), (2, anthropic[-1])]
    for i, (kind, p) in enumerate(bodies):
        body = open(p, "rb").read()
        cuts = bytes(rng.randrange(256) for _ in range(12))
        write("sse_framing", f"seed{i}", bytes([kind, len(cuts)]) + cuts + body)
    for i, text in enumerate(gemini.values()):
        cuts = bytes(rng.randrange(64) for _ in range(8))
        write("sse_framing", f"gemini{i}", bytes([3, len(cuts)]) + cuts + text.encode())

    # chat_request_json and config_text: the shared scenarios' requests and configs.
    n = 0
    seen = set()
    for p in sorted(glob.glob(os.path.join(SCEN, "*.json"))):
        doc = json.load(open(p))
        base = os.path.splitext(os.path.basename(p))[0]
        cfg = json.dumps(doc.get("config"), indent=1)
        if "config" in doc and cfg not in seen:
            seen.add(cfg)
            write("config_text", base + ".json", cfg)
        for step in doc.get("steps", []):
            req = step.get("request")
            if isinstance(req, dict) and "messages" in req and n < 60:
                write("chat_request_json", f"req{n:03}.json", json.dumps(req))
                n += 1
    write("config_text", "yaml.yaml", """providers:
  oai:
    kind: openai
    base_url: http://127.0.0.1:1/v1
    api_key: sk-literal
    headers: {OpenAI-Organization: org-1}
    timeouts: {connect: 2, first_byte: "30s", total: 2m}
  claude:
    kind: anthropic
    api_key: env:FUZZ_UNSET_KEY
models:
  fast: {provider: oai, model: gpt-4o-mini, aliases: [quick]}
  smart: {provider: claude, model: claude-sonnet-4-5}
defaults:
  timeouts: {total: 60}
""")


if __name__ == "__main__":
    main()
