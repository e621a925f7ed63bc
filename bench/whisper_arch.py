"""Randomly initialised Whisper models of the exact published large-v3-turbo and
distil-large-v3 architectures, converted to CTranslate2 int8, for timing only.

Their weights cannot be fetched here (no model hub), but the cost of a forward
pass depends only on the architecture: a random model of the same shape costs
what the real one costs per encoder window and per decoded token. Random weights
never stop on their own, so whoever decodes with them must cap the new tokens
(bench/pipeline.py caps them at a realistic rate of speech).

The configurations below are the published ``config.json`` values of
openai/whisper-large-v3-turbo and distil-whisper/distil-large-v3 (written out
because the hub is unreachable). The tokenizer is the multilingual one of the
provisioned faster-whisper-base: large-v3's vocabulary has one more language
token (51866 ids); the converter fills the remaining ids with timestamp tokens,
which is what faster-whisper reads them as. large-v3 hears 128 mel bins, so a
``preprocessor_config.json`` saying so is written beside the model.

Bench helper only: never imported by the product. Models go under /tmp.

    .venv/bin/python bench/whisper_arch.py [--out /tmp/verbatim-arch] [turbo distil]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

# Shared by large-v3, large-v3-turbo and distil-large-v3 (published config.json).
_LARGE_V3: dict[str, Any] = {
    "architectures": ["WhisperForConditionalGeneration"],
    "model_type": "whisper",
    "activation_function": "gelu",
    "d_model": 1280,
    "encoder_layers": 32,
    "encoder_attention_heads": 20,
    "encoder_ffn_dim": 5120,
    "decoder_attention_heads": 20,
    "decoder_ffn_dim": 5120,
    "num_mel_bins": 128,
    "vocab_size": 51866,
    "max_source_positions": 1500,
    "max_target_positions": 448,
    "scale_embedding": False,
    "bos_token_id": 50257,
    "eos_token_id": 50257,
    "pad_token_id": 50256,
    "decoder_start_token_id": 50258,
    "begin_suppress_tokens": [220, 50257],
    "dropout": 0.0,
    "attention_dropout": 0.0,
    "activation_dropout": 0.0,
    "init_std": 0.02,
    "use_cache": True,
}

ARCHITECTURES: dict[str, dict[str, Any]] = {
    # openai/whisper-large-v3-turbo: large-v3's encoder, 4 decoder layers (809 M parameters)
    "large-v3-turbo": {**_LARGE_V3, "decoder_layers": 4,
                       # its generation_config.json's alignment heads
                       "alignment_heads": [[2, 4], [2, 11], [3, 3], [3, 6], [3, 11], [3, 14]]},
    # distil-whisper/distil-large-v3: large-v3's encoder, 2 decoder layers (756 M parameters)
    "distil-large-v3": {**_LARGE_V3, "decoder_layers": 2},
}
SHORT = {"turbo": "large-v3-turbo", "distil": "distil-large-v3"}

HOME_MODELS = Path.home() / ".local" / "share" / "verbatim" / "models"
SHARED_MODELS = Path(__file__).resolve().parent.parent.parent / "shared" / "models"


def multilingual_tokenizer() -> Path:
    """A multilingual Whisper tokenizer.json from a provisioned model (base)."""
    for folder in (HOME_MODELS, SHARED_MODELS):
        for name in ("faster-whisper-base", "faster-whisper-small", "faster-whisper-tiny"):
            found = folder / name / "tokenizer.json"
            if found.is_file():
                return found
    raise SystemExit("no multilingual tokenizer.json: provision faster-whisper-base first "
                     "(make setup)")


# The provisioned tokenizer's last special token is <|notimestamps|> (50363): ids after it
# are timestamps, as faster-whisper reads them.
TIMESTAMP_BEGIN = 50364
EOT = 50257


def _never_stop(model: Any, vocab_size: int) -> None:
    """Make the random decoder write only text tokens: never a timestamp, never the end.

    Random logits put timestamp tokens anywhere; faster-whisper then cuts a 30 s window
    into 20 ms segments and seeks back, decoding each window many times (a real model
    writes a timestamp pair every few seconds and moves on by about a window). One
    hidden unit is made constant (the final layer norm's gain 0, bias 1) and the
    timestamp and end-of-text rows of the tied embedding get -50 on it, so their logits
    sit far below every text token's. Values change, shapes do not: the cost is the
    architecture's.
    """
    import torch

    decoder = model.model.decoder
    with torch.no_grad():
        decoder.layer_norm.weight[0] = 0.0
        decoder.layer_norm.bias[0] = 1.0
        embedding = decoder.embed_tokens.weight
        embedding[:, 0] = 0.0
        embedding[EOT, 0] = -50.0
        embedding[TIMESTAMP_BEGIN:vocab_size, 0] = -50.0
        if model.proj_out.weight.data_ptr() != embedding.data_ptr():
            model.proj_out.weight.copy_(embedding)


def build(name: str, out: Path, *, seed: int = 0) -> Path:
    """The CTranslate2 int8 folder of a random ``name`` model (built once, then reused)."""
    target = out / f"{name}-random-int8"
    if (target / "model.bin").is_file():
        return target
    import torch
    from ctranslate2.converters import TransformersConverter
    from transformers import WhisperConfig, WhisperForConditionalGeneration

    spec = dict(ARCHITECTURES[name])
    heads = spec.pop("alignment_heads", None)
    tokenizer = multilingual_tokenizer()
    base_config = json.loads((tokenizer.parent / "config.json").read_text())
    hf = out / f"{name}-random-hf"
    hf.mkdir(parents=True, exist_ok=True)
    clock = time.perf_counter()
    torch.manual_seed(seed)
    config = WhisperConfig(**spec, suppress_tokens=base_config["suppress_ids"])
    model = WhisperForConditionalGeneration(config).to(torch.float16).eval()
    _never_stop(model, spec["vocab_size"])
    model.generation_config.suppress_tokens = base_config["suppress_ids"]
    model.generation_config.begin_suppress_tokens = spec["begin_suppress_tokens"]
    model.save_pretrained(hf)
    shutil.copy(tokenizer, hf / "tokenizer.json")
    (hf / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "WhisperTokenizer", "model_max_length": 1024}))
    params = sum(p.numel() for p in model.parameters())
    del model
    print(f"{name}: {params / 1e6:.0f} M parameters, random, built in "
          f"{time.perf_counter() - clock:.0f} s", file=sys.stderr)
    clock = time.perf_counter()
    TransformersConverter(str(hf), low_cpu_mem_usage=True).convert(
        str(target), quantization="int8", force=True)
    shutil.copy(tokenizer, target / "tokenizer.json")
    converted = json.loads((target / "config.json").read_text())
    # large-v3's 100 language tokens; the published alignment heads where there are some
    # (the converter does not carry them over from a generation config it was not given)
    converted["lang_ids"] = list(range(50259, 50359))
    if heads:
        converted["alignment_heads"] = heads
    (target / "config.json").write_text(json.dumps(converted))
    (target / "preprocessor_config.json").write_text(json.dumps({
        "feature_size": spec["num_mel_bins"], "sampling_rate": 16000, "hop_length": 160,
        "chunk_length": 30, "n_fft": 400}))
    shutil.rmtree(hf)
    print(f"{name}: converted to CTranslate2 int8 in {time.perf_counter() - clock:.0f} s "
          f"-> {target}", file=sys.stderr)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=["turbo", "distil"])
    parser.add_argument("--out", type=Path, default=Path("/tmp/verbatim-arch"))
    args = parser.parse_args()
    for short in args.models:
        print(build(SHORT.get(short, short), args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
