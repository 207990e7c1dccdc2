"""tlcourse.numerics: TensorFlow's determinism switches on a GPU, nothing on a CPU (issue 14)."""

from types import SimpleNamespace

from tlcourse.numerics import deterministic_gpu


def fake_tf(gpus):
    calls = []
    experimental = SimpleNamespace(enable_op_determinism=lambda: calls.append("determinism"),
                                   enable_tensor_float_32_execution=lambda on: calls.append(f"tf32={on}"))
    config = SimpleNamespace(list_physical_devices=lambda kind: gpus if kind == "GPU" else [],
                             experimental=experimental)
    return SimpleNamespace(config=config), calls


def test_on_a_cpu_nothing_changes():
    tf, calls = fake_tf([])
    assert deterministic_gpu(tf) is None and calls == []


def test_on_a_gpu_determinism_on_and_tf32_off():
    tf, calls = fake_tf(["/physical_device:GPU:0"])
    note = deterministic_gpu(tf)
    assert calls == ["determinism", "tf32=False"]
    assert note.startswith("GPU (1): operaciones deterministas")


def test_real_tensorflow_here_has_no_gpu_and_the_switches_exist():
    import tensorflow as tf

    assert callable(tf.config.experimental.enable_op_determinism)
    assert callable(tf.config.experimental.enable_tensor_float_32_execution)
    assert deterministic_gpu() is None   # CI and this machine: CPU only
