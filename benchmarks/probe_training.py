"""Training throughput of the probe's default preset: tokens per second in fp32 and with bf16 autocast.

A BertForMaskedLM of the default preset (4 layers, hidden 256, max length 64,
batch 32, no dropout) on random ids with a 5,000-token vocabulary, full training steps
(masking, forward, backward, gradient clipping, AdamW) through the trainer's
own :func:`core.perturbed_masking.probe.mlm_step` (MLM head at the masked positions
only, fused AdamW). The baseline, run in the same process, is the textbook
step: ``model(labels=...)`` (the head at every token) and torch's default
AdamW. ``efficiency`` is the useful training FLOP/s (6 x matmul parameters per
token, the head counted at the 15% of tokens it predicts, plus attention)
over the machine's dense float32 matmul peak measured in the same process;
the better of the two precisions is the headline ``tokens_per_s``. Last line: JSON.

    python -m benchmarks.probe_training
"""

from __future__ import annotations

import json
import time

import numpy as np

from benchmarks.perturbed_masking import matmul_peak

VOCAB = 5000
STEPS = 12


def main() -> dict:
    import torch
    from transformers import BertForMaskedLM

    from core.models.registry import set_torch_threads
    from core.perturbed_masking import probe as P

    set_torch_threads()
    preset = P.PRESETS["default"]
    config = P.model_config(preset, VOCAB)
    rng = np.random.default_rng(0)
    ids = rng.integers(len(P.SPECIALS), VOCAB, (preset.batch, preset.max_len))

    def run(bf16: bool, textbook: bool = False) -> float:
        torch.manual_seed(0)
        model = BertForMaskedLM(config)
        if textbook:
            opt = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.01)
        else:
            opt = P.make_optimizer(model, 5e-4)

        def step():
            inputs, labels = P.mask_batch(ids, rng, 4, VOCAB, len(P.SPECIALS))
            if not textbook:
                P.mlm_step(model, opt, inputs, labels, bf16=bf16)
                return
            model.train()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                out = model(input_ids=torch.from_numpy(inputs), labels=torch.from_numpy(labels))
            opt.zero_grad(set_to_none=True)
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()

        for _ in range(3):
            step()
        t = time.perf_counter()
        for _ in range(STEPS):
            step()
        return STEPS * preset.batch * preset.max_len / (time.perf_counter() - t)

    peak = matmul_peak()
    fp32 = max(run(False), run(False))
    bf16 = max(run(True), run(True))
    textbook = max(run(True, textbook=True), run(True, textbook=True))
    flops = P.flops_per_token("default", VOCAB)
    best = max(fp32, bf16)
    result = {
        "preset": "default",
        "batch": preset.batch,
        "max_len": preset.max_len,
        "vocab": VOCAB,
        "matmul_peak_gflops": round(peak / 1e9, 1),
        "flops_per_token": round(flops),
        "tokens_per_s_fp32": round(fp32),
        "tokens_per_s_bf16": round(bf16),
        "tokens_per_s": round(best),
        "steps_per_s": round(best / (preset.batch * preset.max_len), 2),
        "efficiency_fp32": round(fp32 * flops / peak, 3),
        "efficiency_bf16": round(bf16 * flops / peak, 3),
        "efficiency": round(best * flops / peak, 3),
        "textbook_tokens_per_s_bf16": round(textbook),
        "speedup_vs_textbook": round(bf16 / textbook, 2),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
