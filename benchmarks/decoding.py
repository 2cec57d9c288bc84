"""Decoding speed: batched against one prompt at a time, the p(EOS) bookkeeping against plain generate, the LSTM.

1. SmolLM2-135M, 16 prompts of the project's set (8 English, 8 Chinese), greedy, 128 new tokens (EOS
   suppressed so every row decodes the same number of tokens): the lab's batched decoding (all 16 in one
   ``generate`` call, left-padded, KV cache) against one ``generate`` call per prompt. ``batched_speedup`` =
   batched tokens/s / one-at-a-time tokens/s (target >= 4).
2. The same batch through :func:`core.decoding.generation.decode` (the two recording processors, the beam
   bookkeeping, the continuation rows) against a plain ``generate`` with the same settings:
   ``bookkeeping_overhead`` = ours / plain in seconds (target <= 1.10), medians of interleaved rounds.
3. The trained LSTMs (when they are trained here): greedy tokens/s on 100 held-out prefixes, 300 tokens.
4. r_L of each decoder from the stored prompt-set tables of SmolLM2 and the two LSTMs (those that exist).

Everything runs in one process; ratios, not absolute times, are the result. Last line: JSON.

    python -m benchmarks.decoding
"""

from __future__ import annotations

import json
import statistics
import time

ROUNDS = 3
NEW_TOKENS = 128


def _no_eos(eos_ids):  # noqa: ANN202 - a LogitsProcessor
    import torch
    from transformers import LogitsProcessor

    class NoEOS(LogitsProcessor):
        def __call__(self, input_ids, scores):  # noqa: ANN001, ANN204
            scores[:, list(eos_ids)] = -torch.inf
            return scores

    return NoEOS()


def main() -> dict:
    import torch
    from transformers import LogitsProcessorList

    from core.decoding import decoders as dec
    from core.decoding import generation, models, table, training
    from core.models.causal_lm import SMOLLM2

    torch.set_num_threads(torch.get_num_threads())
    lm = models.load_language_model(SMOLLM2)
    sets = table.builtin_prompts()
    prompts = sets["en"][:8] + sets["zh"][:8]
    greedy = dec.parse("greedy")
    config = generation.generation_config(lm, greedy, NEW_TOKENS)
    no_eos = _no_eos(lm.eos_ids)

    def plain(batch: list[str]) -> float:
        enc = lm.encode(batch, room=NEW_TOKENS)
        t = time.perf_counter()
        with torch.inference_mode():
            out = lm.model.generate(
                input_ids=enc.input_ids,
                attention_mask=enc.attention_mask,
                generation_config=config,
                logits_processor=LogitsProcessorList([no_eos]),
            )
        assert out.sequences.shape[1] - enc.input_ids.shape[1] == NEW_TOKENS
        return time.perf_counter() - t

    def ours(batch: list[str]) -> float:
        saved = generation.processors
        generation.processors = lambda d, eos, n: [no_eos]  # same work as plain, plus the lab's bookkeeping
        try:
            t = time.perf_counter()
            rows = generation.decode(lm, batch, greedy, NEW_TOKENS, batch_size=len(batch))
            took = time.perf_counter() - t
        finally:
            generation.processors = saved
        assert all(len(r.tokens) == NEW_TOKENS for r in rows)
        return took

    plain(prompts[:2])  # warm-up
    one_at_a_time, batched, plain_t, ours_t = [], [], [], []
    for _ in range(ROUNDS):
        one_at_a_time.append(sum(plain([p]) for p in prompts[:4]) / 4)  # seconds per prompt
        batched.append(plain(prompts))
        plain_t.append(batched[-1])
        ours_t.append(ours(prompts))
    tok_single = NEW_TOKENS / statistics.median(one_at_a_time)
    tok_batched = len(prompts) * NEW_TOKENS / statistics.median(batched)
    result = {
        "prompts": len(prompts),
        "new_tokens": NEW_TOKENS,
        "tokens_per_s_single": round(tok_single, 1),
        "tokens_per_s_batched": round(tok_batched, 1),
        "batched_speedup": round(tok_batched / tok_single, 2),
        "bookkeeping_overhead": round(statistics.median(ours_t) / statistics.median(plain_t), 3),
    }
    print(json.dumps(result), flush=True)

    for output in ("softmax", "self-terminating"):
        name = training.lm_name("peoples-daily", output)
        if not training.is_trained(name):
            continue
        lstm = models.load_language_model(name)
        held = table.default_prompts(name)
        t = time.perf_counter()
        rows = generation.decode(lstm, held, greedy, 300, batch_size=len(held))
        steps = max(len(r.p_eos) for r in rows) * len(rows)
        result[f"lstm_{output}_tokens_per_s"] = round(steps / (time.perf_counter() - t), 1)

    r_l = {}
    for model_id in (SMOLLM2, *models.BUILTIN_TRAINED):
        stored = table.load_table(table.TableSpec(model=model_id))
        if stored is not None:
            r_l[model_id] = {row["decoder"]: row["non_termination"] for row in stored["rows"]}
    result["r_L"] = r_l
    return result


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False))
