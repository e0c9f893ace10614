"""Model configurations for the synthetic GPT-OSS graphs (see gen_gptoss.py)."""

_COMMON = dict(
    rope_theta=150000.0,
    rope_scaling_factor=32.0,
    rope_ntk_alpha=1.0,
    rope_ntk_beta=32.0,
    initial_context_length=4096,
    swiglu_limit=7.0,
    rms_eps=1e-5,
)

CONFIGS = {
    # L layers, H hidden, NH query heads, KV kv heads, D head dim, E experts,
    # K experts per token, I intermediate, V vocab, T sequence length, W sliding window
    "tiny": dict(L=2, H=64, NH=4, KV=2, D=16, E=4, K=2, I=64, V=256, T=16, W=4, **_COMMON),
    "small": dict(L=2, H=256, NH=8, KV=2, D=32, E=8, K=4, I=256, V=2048, T=32, W=8, **_COMMON),
    "20b-2layer": dict(L=2, H=2880, NH=64, KV=8, D=64, E=32, K=4, I=2880, V=201088, T=16, W=128,
                       **_COMMON),
}


def get_config(name):
    cfg = dict(CONFIGS[name])
    cfg["name"] = name
    cfg["M"] = cfg["NH"] // cfg["KV"]
    cfg["QKV"] = (cfg["NH"] + 2 * cfg["KV"]) * cfg["D"]
    assert cfg["H"] % 32 == 0 and cfg["I"] % 32 == 0, "MXFP4 blocks need H, I divisible by 32"
    assert cfg["NH"] % cfg["KV"] == 0
    return cfg
