"""all-MiniLM-L6-v2 on onnxruntime: the 6-layer BERT written as an ONNX graph from the verified safetensors
weights (no torch, no exporter), cached on disk keyed on the weights' sha256, and run by one session."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

# Bump when the graph below changes: the cache key includes it, so an old cached graph is never used.
GRAPH_VERSION = "minilm-ort-v1"
CACHE_SUBDIR = "encoders"
COMPLETE_KEY = "voicecoach_graph"  # metadata written last in the file: missing when the file was cut short
LAYERS = 6
HEADS = 12
HIDDEN = 384
EPS = 1e-12
# bench/encoder.py on 2 cores: 2 threads without spinning are the fastest whether the other core is idle or
# busy; spinning threads win a little when idle but double p95 when another process wants the core.
THREADS = min(2, os.cpu_count() or 1)


def build_model(weights: dict[str, np.ndarray], tag: str = ""):
    """The onnx.ModelProto of the encoder: int32 input_ids and attention_mask (batch, tokens) in, mean-pooled
    unit rows (batch, 384) out. Attention, residual+LayerNorm and bias+GELU are onnxruntime's fused CPU
    kernels (com.microsoft domain), the same ops its transformer optimizer would produce."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    inits: list = []
    nodes: list = []

    def const(name: str, array: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def f32(name: str) -> np.ndarray:
        return np.asarray(weights[name], dtype=np.float32)

    def node(op: str, inputs: list[str], output: str, domain: str = "", **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output, domain=domain or None, **attrs))
        return output

    ms = "com.microsoft"
    word = const("word_embeddings", f32("embeddings.word_embeddings.weight"))
    position = const("position_embeddings", f32("embeddings.position_embeddings.weight"))
    type0 = const("token_type0", f32("embeddings.token_type_embeddings.weight")[0])
    const("zero", np.array([0], dtype=np.int64))
    const("axis0", np.array([0], dtype=np.int64))
    const("axis1", np.array([1], dtype=np.int64))
    const("axis2", np.array([2], dtype=np.int64))
    const("tiny_count", np.array(1e-9, dtype=np.float32))
    const("tiny_norm", np.array(1e-12, dtype=np.float32))

    length = node("Shape", ["input_ids"], "length", start=1, end=2)
    positions = node("Slice", [position, "zero", length, "axis0"], "positions")
    x = node("Gather", [word, "input_ids"], "tokens")
    x = node("Add", [x, positions], "with_positions")
    x = node("Add", [x, type0], "with_type")
    x = node("LayerNormalization", [x, const("emb_ln_g", f32("embeddings.LayerNorm.weight")),
                                    const("emb_ln_b", f32("embeddings.LayerNorm.bias"))],
             "embedded", axis=-1, epsilon=EPS)
    for i in range(LAYERS):
        p, n = f"encoder.layer.{i}.", f"l{i}_"
        qkv = np.concatenate([f32(p + f"attention.self.{k}.weight") for k in ("query", "key", "value")]).T
        qkv_b = np.concatenate([f32(p + f"attention.self.{k}.bias") for k in ("query", "key", "value")])
        context = node("Attention", [x, const(n + "qkv", qkv), const(n + "qkv_b", qkv_b), "attention_mask"],
                       n + "context", domain=ms, num_heads=HEADS)
        attended = node("MatMul", [context, const(n + "ao", f32(p + "attention.output.dense.weight").T)],
                        n + "attended")
        x = node("SkipLayerNormalization", [attended, x, const(n + "ln1_g", f32(p + "attention.output.LayerNorm.weight")),
                                            const(n + "ln1_b", f32(p + "attention.output.LayerNorm.bias")),
                                            const(n + "ao_b", f32(p + "attention.output.dense.bias"))],
                 n + "x1", domain=ms, epsilon=EPS)
        inner = node("MatMul", [x, const(n + "inter", f32(p + "intermediate.dense.weight").T)], n + "inner")
        inner = node("BiasGelu", [inner, const(n + "inter_b", f32(p + "intermediate.dense.bias"))], n + "gelu",
                     domain=ms)
        out = node("MatMul", [inner, const(n + "out", f32(p + "output.dense.weight").T)], n + "ffn")
        x = node("SkipLayerNormalization", [out, x, const(n + "ln2_g", f32(p + "output.LayerNorm.weight")),
                                            const(n + "ln2_b", f32(p + "output.LayerNorm.bias")),
                                            const(n + "out_b", f32(p + "output.dense.bias"))],
                 n + "x2", domain=ms, epsilon=EPS)
    # Mean over the real tokens, then unit length, as sentence-transformers' Pooling + Normalize.
    mask = node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    masked = node("Mul", [x, node("Unsqueeze", [mask, "axis2"], "mask_3d")], "masked")
    summed = node("ReduceSum", [masked, "axis1"], "summed", keepdims=0)
    count = node("Max", [node("ReduceSum", [mask, "axis1"], "count", keepdims=1), "tiny_count"], "count_safe")
    pooled = node("Div", [summed, count], "pooled")
    norm = node("Max", [node("ReduceL2", [pooled], "norm", axes=[1], keepdims=1), "tiny_norm"], "norm_safe")
    node("Div", [pooled, norm], "embeddings")

    dims = ["batch", "tokens"]
    graph = helper.make_graph(
        nodes, "all-minilm-l6-v2",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT32, dims),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT32, dims)],
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", HIDDEN])],
        initializer=inits)
    model = helper.make_model(graph, producer_name="voicecoach",
                              opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(ms, 1)])
    model.ir_version = 8  # onnxruntime >= 1.14 reads it; newer onnx packages default to a higher one
    # metadata_props (field 14) serialises after the graph (field 7): a file cut short loses it.
    helper.set_model_props(model, {COMPLETE_KEY: tag or GRAPH_VERSION})
    onnx.checker.check_model(model, full_check=False)
    return model


def cache_path(weights_sha256: str) -> Path:
    """Where the graph built from these weights is cached (beside the verified-hash cache)."""
    from voicecoach.assets.verify import hash_cache_path

    return hash_cache_path().parent / CACHE_SUBDIR / f"{GRAPH_VERSION}-{weights_sha256[:16]}.onnx"


def weights_sha256(path: Path) -> str:
    """The safetensors file's sha256, from the verified-hash cache when the asset store hashed it already."""
    from voicecoach.assets import verify

    return verify.cached_sha256(Path(path))


def _session_options(threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return options


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class OnnxBert:
    """The BERT forward pass and pooling on one onnxruntime session; `forward(ids, mask)` -> unit rows."""

    def __init__(self, model_file: Path, threads: int = THREADS, cache: Path | bool = True) -> None:
        """`cache`: True for the default cache file, a path for another, False to build in memory."""
        import onnxruntime as ort

        model_file = Path(model_file)
        self.built = False  # whether the graph was built now (False: read from the cache)
        options = _session_options(threads)
        if cache is False:
            path, tag, self._session = None, GRAPH_VERSION, None
        else:
            sha = weights_sha256(model_file)
            path, tag = (cache_path(sha) if cache is True else Path(cache)), f"{GRAPH_VERSION}:{sha}"
            self._session = self._open_cached(ort, path, tag, options)
        if self._session is None:
            data = self._build(model_file, tag)
            if path is not None:
                try:
                    _write_atomically(path, data)
                except OSError as error:  # a read-only cache: build in memory at every start instead
                    log.warning("cannot cache the encoder graph in %s: %s", path, error)
            self._session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        self.cache_file = path

    @staticmethod
    def _open_cached(ort, path: Path, tag: str, options):
        if not path.is_file():
            return None
        try:
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            if session.get_modelmeta().custom_metadata_map.get(COMPLETE_KEY) == tag:
                return session
            problem = "incomplete or from other weights"
        except Exception as error:  # onnxruntime raises its own exception types for unreadable files
            problem = str(error).splitlines()[0][:200]
        log.warning("rebuilding the cached encoder graph %s (%s)", path, problem)
        return None

    def _build(self, model_file: Path, tag: str) -> bytes:
        from safetensors.numpy import load_file

        self.built = True
        log.info("building the encoder's onnxruntime graph from %s", model_file)
        return build_model(load_file(str(model_file)), tag).SerializeToString()

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        feed = {"input_ids": ids.astype(np.int32, copy=False), "attention_mask": mask.astype(np.int32, copy=False)}
        return self._session.run(["embeddings"], feed)[0]


# The same graph with every layer's token states as further outputs (encoder.SentenceEncoder.token_states):
# a separate cached file, so the sentence-vector graph above stays exactly as it is.
STATES_GRAPH_VERSION = "minilm-ort-states-v1"
STATE_OUTPUTS = ("embedded", *(f"l{i}_x2" for i in range(LAYERS)))


def build_states_model(weights: dict[str, np.ndarray], tag: str = ""):
    """build_model's graph that also outputs the embedding output and each layer's output, (batch, tokens, 384)
    float32 each, under the names in STATE_OUTPUTS."""
    import onnx
    from onnx import TensorProto, helper

    model = build_model(weights, tag or STATES_GRAPH_VERSION)
    model.graph.output.extend(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", "tokens", HIDDEN])
                              for name in STATE_OUTPUTS)
    onnx.checker.check_model(model, full_check=False)
    return model


def states_cache_path(weights_sha256: str) -> Path:
    from voicecoach.assets.verify import hash_cache_path

    return hash_cache_path().parent / CACHE_SUBDIR / f"{STATES_GRAPH_VERSION}-{weights_sha256[:16]}.onnx"


class OnnxStates:
    """The states graph on its own onnxruntime session: `hidden_states(ids, mask)` -> (LAYERS + 1, batch,
    tokens, 384), as encoder.NumpyBert.hidden_states."""

    def __init__(self, model_file: Path, threads: int = THREADS) -> None:
        import onnxruntime as ort

        model_file = Path(model_file)
        options = _session_options(threads)
        sha = weights_sha256(model_file)
        path, tag = states_cache_path(sha), f"{STATES_GRAPH_VERSION}:{sha}"
        self._session = OnnxBert._open_cached(ort, path, tag, options)
        if self._session is None:
            from safetensors.numpy import load_file

            log.info("building the encoder's token-states graph from %s", model_file)
            data = build_states_model(load_file(str(model_file)), tag).SerializeToString()
            try:
                _write_atomically(path, data)
            except OSError as error:
                log.warning("cannot cache the encoder's states graph in %s: %s", path, error)
            self._session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])

    def hidden_states(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        feed = {"input_ids": ids.astype(np.int32, copy=False), "attention_mask": mask.astype(np.int32, copy=False)}
        return np.stack(self._session.run(list(STATE_OUTPUTS), feed))

    def forward_with_states(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The pooled unit rows (as OnnxBert.forward) and the states, from one run."""
        feed = {"input_ids": ids.astype(np.int32, copy=False), "attention_mask": mask.astype(np.int32, copy=False)}
        embeddings, *states = self._session.run(["embeddings", *STATE_OUTPUTS], feed)
        return embeddings, np.stack(states)
