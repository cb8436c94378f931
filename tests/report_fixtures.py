"""Realistic SubmissionResult fixtures for the report and export tests.

They mirror the course's seven exercises (shared/EXERCISES.md) and the shapes the grading
engine produces, so the reports are exercised on what instructors will really see:
a full-marks student, one with failures and errors, a timeout, a student who submitted
nothing, a GPU check that is not applicable, hidden checks and adversarial content. The
details are the keys the exercises and tfgrade.checklib really record; the verdict signals
(student_error, grader_error, tampering) are CheckResult fields, as the engine sets them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tfgrade.engine.results import CheckResult, ErrorInfo, ExerciseResult, Frame, SubmissionResult
from tfgrade.i18n import Msg

XSS = "<script>alert(1)</script>"
XSS_IMG = '<img src=x onerror="alert(2)">'
GRADED_AT = "2025-03-14T10:32:05Z"
TOOL_VERSION = "0.1.0"

EXERCISE_TITLES: dict[str, Msg] = {
    "ex01_tf1_add": Msg("Suma en TF 1 (grafo y sesión)", "Addition in TF 1 (graph and session)"),
    "ex02_sequential": Msg("Modelo Sequential", "Sequential model"),
    "ex03_functional": Msg("Modelo funcional", "Functional model"),
    "ex04_regression": Msg("Regresión", "Regression"),
    "ex05_matrix_power": Msg("Potencia de una matriz M^n", "Matrix power M^n"),
    "ex06_diabetes_mlp": Msg("Diabetes con un MLP", "Diabetes with an MLP"),
    "ex07_cnn": Msg("Red convolucional", "Convolutional network"),
}
EXERCISE_IDS = list(EXERCISE_TITLES)

SEQ_LAYERS = [
    {"name": "dense", "type": "Dense", "units": 32, "activation": "relu", "output_shape": [None, 32], "params": 3232},
    {"name": "dense_1", "type": "Dense", "units": 1, "activation": "sigmoid", "output_shape": [None, 1], "params": 33},
]
SEQ_EXPECTED = [
    {"type": "Dense", "units": 32, "activation": "relu", "output_shape": [None, 32], "params": 3232},
    {"type": "Dense", "units": 1, "activation": "sigmoid", "output_shape": [None, 1], "params": 33},
]
CURVES = {
    "loss": [0.69, 0.61, 0.55, 0.51, 0.49, 0.47, 0.46, 0.45],
    "accuracy": [0.55, 0.66, 0.71, 0.74, 0.76, 0.77, 0.78, 0.78],
    "val_loss": [0.68, 0.62, 0.57, 0.54, 0.53, 0.52, 0.52, 0.53],
}
DIGIT_CURVES = {"loss": [2.1, 1.2, 0.5, 0.3, 0.2], "accuracy": [0.3, 0.7, 0.88, 0.93, 0.95],
                "val_loss": [1.9, 1.0, 0.45, 0.28, 0.21], "val_accuracy": [0.35, 0.74, 0.9, 0.94, 0.96]}
CNN_LAYERS = [
    {"name": "conv2d", "type": "Conv2D", "filters": 16, "kernel_size": [3, 3], "strides": [1, 1], "activation": "relu",
     "output_shape": [None, 6, 6, 16], "params": 160},
    {"name": "max_pooling2d", "type": "MaxPooling2D", "pool_size": [2, 2], "strides": [2, 2],
     "output_shape": [None, 3, 3, 16], "params": 0},
    {"name": "flatten", "type": "Flatten", "output_shape": [None, 144], "params": 0},
    {"name": "dense", "type": "Dense", "units": 10, "activation": "softmax", "output_shape": [None, 10], "params": 1450},
]
DIGITS_CM = {
    "labels": [str(i) for i in range(10)],
    "counts": [[44 if i == j else (1 if (i + j) % 7 == 0 and i != j else 0) for j in range(10)] for i in range(10)],
}


def check(cid: str, es: str, en: str, status: str, points: float, max_points: float, *,
          hidden: bool = False, fb_es: str = "", fb_en: str = "", student_error: ErrorInfo | None = None,
          grader_error: str | None = None, tampering: str | None = None, **details: Any) -> CheckResult:
    return CheckResult(id=cid, title=Msg(es, en), status=status, points=points,  # type: ignore[arg-type]
                       max_points=max_points, hidden=hidden, feedback=Msg(fb_es, fb_en), details=details,
                       student_error=student_error, grader_error=grader_error, tampering=tampering)


def ok(cid: str, es: str, en: str, points: float, **kw: Any) -> CheckResult:
    return check(cid, es, en, "passed", points, points, fb_es="correcto", fb_en="correct", **kw)


def exercise(ex_id: str, checks: list[CheckResult], status: str = "graded", **kw: Any) -> ExerciseResult:
    return ExerciseResult(exercise=ex_id, title=EXERCISE_TITLES[ex_id], status=status,  # type: ignore[arg-type]
                          checks=tuple(checks), source=kw.pop("source", f"{ex_id}.py"), **kw)


# ---------------------------------------------------------------- per-exercise builders
def ex01_full() -> ExerciseResult:
    return exercise("ex01_tf1_add", [
        ok("graph_mode", "build_graph() devuelve un tf.Graph", "build_graph() returns a tf.Graph", 1),
        ok("placeholders", "a y b son Placeholder int16", "a and b are int16 Placeholders", 2,
           expected="Placeholder int16", found="Placeholder int16"),
        ok("add_op", "add es una operación Add", "add is an Add op", 2),
        ok("session_run", "run_add(2, 3) == 5 con una sesión", "run_add(2, 3) == 5 through a session", 3,
           self_reported_session_runs=1),
        ok("negatives", "Negativos y tipo int", "Negatives and int type", 1),
        ok("wraps", "Aritmética int16 con desbordamiento", "int16 arithmetic wraps", 1, hidden=True,
           expected=-32768, found=-32768),
    ], output="Tensor(\"Add:0\", shape=(), dtype=int16)\n", student_time_s=0.41, duration_s=1.9)


def ex02_full(layers: list[dict[str, Any]] | None = None) -> ExerciseResult:
    layers = layers or SEQ_LAYERS
    return exercise("ex02_sequential", [
        ok("is_sequential", "Es un keras.Sequential", "Is a keras.Sequential", 1),
        ok("two_dense", "Dos capas Dense", "Two Dense layers", 1),
        ok("first_layer", "Primera capa: 32 unidades, relu", "First layer: 32 units, relu", 2,
           layers=layers, expected_layers=SEQ_EXPECTED),
        ok("input_shape", "Entrada (None, 100)", "Input (None, 100)", 1),
        ok("last_layer", "Última capa: 1 unidad, sigmoid", "Last layer: 1 unit, sigmoid", 2),
        ok("params", "3265 parámetros", "3,265 parameters", 1, n_params=3265),
        ok("compiled", "Compilado con RMSprop y entropía cruzada binaria",
           "Compiled with RMSprop and binary cross-entropy", 2,
           optimizer="RMSprop", learning_rate=0.001, loss="binary_crossentropy", metrics=["accuracy"]),
    ], student_time_s=0.8, duration_s=2.2)


def ex03_full() -> ExerciseResult:
    return exercise("ex03_functional", [
        ok("is_functional", "Modelo funcional con entrada (None, 100)", "Functional model with input (None, 100)", 2),
        ok("layers", "Capas, unidades y activaciones", "Layers, units and activations", 5, layers=SEQ_LAYERS),
        ok("params", "3265 parámetros", "3,265 parameters", 1),
        ok("compiled", "Compilado como en la diapositiva", "Compiled as on the slide", 2),
    ], student_time_s=0.7, duration_s=2.0)


def ex04_full() -> ExerciseResult:
    return exercise("ex04_regression", [
        ok("fit_line", "fit_line recupera w y b", "fit_line recovers w and b", 4,
           w=2.4971, b=-0.9932, w_true=2.5, b_true=-1.0, duration_s=0.912),
        ok("uses_tape", "Usa tf.GradientTape", "Uses tf.GradientTape", 2, self_reported_tape_gradients=200),
        ok("floats", "Devuelve floats de Python", "Returns Python floats", 1),
        ok("regressor", "Regresor compilado con salida lineal", "Compiled regressor with a linear output", 3),
        ok("mae", "Error absoluto medio ≤ 2,2 mpg", "Mean absolute error ≤ 2.2 mpg", 8, hidden=True,
           mae=1.9134, n_test=79, n_invalid=0, epochs=6, fits=1,
           curves={"loss": [540.0, 90.2, 21.3, 11.0, 8.7, 7.9], "val_loss": [520.0, 95.0, 24.1, 12.6, 9.9, 9.2]}),
        ok("time", "Dentro del límite de tiempo", "Within the time limit", 2, duration_s=14.208,
           self_reported_fit_calls=1),
    ], student_time_s=14.2, duration_s=16.0)


def ex05_full(gpu_status: str = "not_applicable") -> ExerciseResult:
    gpu = (check("gpu_device", "El resultado vive en /GPU:0", "The result lives on /GPU:0", "not_applicable", 0, 3,
                 fb_es="esta máquina no tiene GPU: la comprobación no se aplica y sus puntos salen del total",
                 fb_en="this machine has no GPU: the check does not apply and its points leave the total")
           if gpu_status == "not_applicable" else
           ok("gpu_device", "El resultado vive en /GPU:0", "The result lives on /GPU:0", 3,
              device="/job:localhost/replica:0/task:0/device:GPU:0"))
    return exercise("ex05_matrix_power", [
        ok("correct", "Correcto frente a la referencia float64", "Correct against the float64 reference", 6,
           max_rel_error=3.1e-06),
        ok("cpu_device", "El resultado vive en /CPU:0", "The result lives on /CPU:0", 3,
           device="/job:localhost/replica:0/task:0/device:CPU:0"),
        gpu,
        ok("log_products", "O(log n) productos de matrices", "O(log n) matrix products", 4,
           products=10, limit=20, counted_by="graph"),
        ok("value_error", "n < 0 o matriz no cuadrada lanzan ValueError", "n < 0 or non-square raise ValueError", 2),
        ok("throughput", "Rendimiento ≥ 50 % de tf.matmul", "Throughput ≥ 50 % of tf.matmul", 2, hidden=True,
           fraction=0.8301, seconds=0.0412, matmul_seconds=0.0057, products_needed=6),
    ], student_time_s=3.3, duration_s=5.1)


def ex06_full() -> ExerciseResult:
    return exercise("ex06_diabetes_mlp", [
        ok("compiled", "Devuelve un keras.Model compilado", "Returns a compiled keras.Model", 1,
           optimizer="Adam", learning_rate=0.001, loss="binary_crossentropy", metrics=["accuracy"]),
        ok("hidden_dense", "Al menos una capa Dense oculta", "At least one hidden Dense layer", 2,
           layers=[{"name": "normalization", "type": "Normalization", "output_shape": [None, 7], "params": 15},
                   {"name": "dense", "type": "Dense", "units": 16, "activation": "relu", "output_shape": [None, 16], "params": 128},
                   {"name": "dense_1", "type": "Dense", "units": 1, "activation": "sigmoid", "output_shape": [None, 1], "params": 17}]),
        ok("output", "Salida sigmoide con entropía cruzada binaria", "Sigmoid output with binary cross-entropy", 3),
        ok("input", "Acepta 7 variables", "Accepts 7 features", 2),
        ok("accuracy", "Exactitud en el conjunto reservado ≥ 0,75", "Held-out accuracy ≥ 0.75", 10, hidden=True,
           expected="accuracy ≥ 0.75", found=0.7922, accuracy=0.7922, n_test=332, n_invalid=0, curves=CURVES,
           epochs=8, fits=1, confusion_matrix={"labels": ["no", "sí"], "counts": [[198, 25], [44, 65]]}),
        ok("time", "Dentro del límite de tiempo", "Within the time limit", 2, duration_s=6.4, self_reported_fit_calls=1,
           curves=CURVES, epochs=8, fits=1),
    ], output="Epoch 1/8\n7/7 - 0s - loss: 0.6900 - accuracy: 0.5500\n", student_time_s=6.4, duration_s=8.2)


def ex07_full() -> ExerciseResult:
    return exercise("ex07_cnn", [
        ok("compiled", "Devuelve un keras.Model compilado", "Returns a compiled keras.Model", 1),
        ok("conv", "Tiene una Conv2D", "Has a Conv2D", 3),
        ok("downsample", "Reduce la resolución", "Downsamples", 2),
        ok("softmax", "Salida softmax de 10 clases", "10-way softmax output", 2),
        ok("params", "A lo sumo 100.000 parámetros", "At most 100,000 parameters", 2, n_params=1610,
           layers=CNN_LAYERS),
        ok("accuracy", "Exactitud en el cuarto reservado ≥ 0,95", "Held-out accuracy ≥ 0.95", 8, hidden=True,
           accuracy=0.9735, n_test=452, n_invalid=0, confusion_matrix=DIGITS_CM, curves=DIGIT_CURVES, epochs=5, fits=1),
        ok("time", "Dentro del límite de tiempo", "Within the time limit", 2, duration_s=21.0, self_reported_fit_calls=1,
           curves=DIGIT_CURVES, epochs=5, fits=1),
    ], student_time_s=21.0, duration_s=24.5)


def missing(ex_id: str) -> ExerciseResult:
    return ExerciseResult(
        exercise=ex_id, title=EXERCISE_TITLES[ex_id], status="missing", checks=(), source=None,
        message=Msg(f"no se encontró {ex_id}.py ni {ex_id}.ipynb", f"found neither {ex_id}.py nor {ex_id}.ipynb"))


def submission(student: str, exercises: list[ExerciseResult], **kw: Any) -> SubmissionResult:
    return SubmissionResult(student=student, exercises=tuple(exercises), isolation=kw.pop("isolation", "standard"),
                            tool_version=TOOL_VERSION, graded_at=kw.pop("graded_at", GRADED_AT),
                            duration_s=kw.pop("duration_s", 61.0), **kw)


# ---------------------------------------------------------------- students
def full_marks_student(name: str = "ana_garcia") -> SubmissionResult:
    """Every check passes; the GPU check is not applicable (no GPU): 107 of 107."""
    return submission(name, [ex01_full(), ex02_full(), ex03_full(), ex04_full(), ex05_full(), ex06_full(),
                             ex07_full()], student_id="20231234")


def failing_student(name: str = "bruno_díaz") -> SubmissionResult:
    """Wrong units in ex02, an exception in ex04, a low hidden accuracy in ex06."""
    wrong = [dict(SEQ_LAYERS[0], units=16, output_shape=[None, 16], params=1616),
             dict(SEQ_LAYERS[1], params=17)]
    ex02 = exercise("ex02_sequential", [
        ok("is_sequential", "Es un keras.Sequential", "Is a keras.Sequential", 1),
        ok("two_dense", "Dos capas Dense", "Two Dense layers", 1),
        check("first_layer", "Primera capa: 32 unidades, relu", "First layer: 32 units, relu", "failed", 0, 2,
              fb_es="capa 1: se esperaban 32 unidades, hay 16", fb_en="layer 1: expected 32 units, found 16",
              expected=32, found=16, layers=wrong, expected_layers=SEQ_EXPECTED),
        ok("input_shape", "Entrada (None, 100)", "Input (None, 100)", 1),
        ok("last_layer", "Última capa: 1 unidad, sigmoid", "Last layer: 1 unit, sigmoid", 2),
        check("params", "3265 parámetros", "3,265 parameters", "failed", 0, 1,
              fb_es="se esperaban 3265 parámetros, hay 1633", fb_en="expected 3,265 parameters, found 1,633",
              expected=3265, found=1633),
        check("compiled", "Compilado con RMSprop y entropía cruzada binaria",
              "Compiled with RMSprop and binary cross-entropy", "failed", 1, 2,
              fb_es="optimizador: se esperaba RMSprop, hay Adam", fb_en="optimizer: expected RMSprop, found Adam",
              expected={"optimizer": "RMSprop", "loss": "binary_crossentropy", "metrics": ["accuracy"]},
              found={"optimizer": "Adam", "loss": "binary_crossentropy", "metrics": ["accuracy"]}),
    ], student_time_s=0.9)
    error = ErrorInfo(kind="raised", function="fit_line", type="ValueError",
                      message="operands could not be broadcast together with shapes (200,) (3,)",
                      frames=(Frame(18, "fit_line", "loss = (y - w * x + b) ** 2"),
                              Frame(25, "fit_line", "grads = tape.gradient(loss, [w, b])")))
    ex04 = exercise("ex04_regression", [
        check("fit_line", "fit_line recupera w y b", "fit_line recovers w and b", "error", 0, 4,
              fb_es="`fit_line` lanzó ValueError: operands could not be broadcast together with shapes (200,) (3,) "
                    "(línea 25: grads = tape.gradient(loss, [w, b]))",
              fb_en="`fit_line` raised ValueError: operands could not be broadcast together with shapes (200,) (3,) "
                    "(line 25: grads = tape.gradient(loss, [w, b]))", student_error=error),
        check("uses_tape", "Usa tf.GradientTape", "Uses tf.GradientTape", "skipped", 0, 2,
              fb_es="no evaluado: depende de fit_line, que falló (ver «fit_line»)",
              fb_en="not evaluated: it depends on fit_line, which failed (see “fit_line”)"),
        check("floats", "Devuelve floats de Python", "Returns Python floats", "skipped", 0, 1,
              fb_es="no evaluado: depende de fit_line, que falló (ver «fit_line»)",
              fb_en="not evaluated: it depends on fit_line, which failed (see “fit_line”)"),
        ok("regressor", "Regresor compilado con salida lineal", "Compiled regressor with a linear output", 3),
        check("mae", "Error absoluto medio ≤ 2,2 mpg", "Mean absolute error ≤ 2.2 mpg", "failed", 3.1, 8, hidden=True,
              fb_es="error absoluto medio 2,89 mpg (objetivo ≤ 2,2)", fb_en="mean absolute error 2.89 mpg (target ≤ 2.2)",
              expected="MAE ≤ 2.2", found=2.89, mae=2.8901, n_test=79, n_invalid=0, epochs=4, fits=1,
              curves={"loss": [560.0, 410.0, 300.0, 210.0], "val_loss": [555.0, 420.0, 330.0, 250.0]}),
        ok("time", "Dentro del límite de tiempo", "Within the time limit", 2, duration_s=3.2, self_reported_fit_calls=1),
    ], output="w = <tf.Variable 'Variable:0' shape=() dtype=float32, numpy=0.0>\n" * 3, student_time_s=3.2)
    ex06 = exercise("ex06_diabetes_mlp", [
        ok("compiled", "Devuelve un keras.Model compilado", "Returns a compiled keras.Model", 1),
        check("hidden_dense", "Al menos una capa Dense oculta", "At least one hidden Dense layer", "failed", 0, 2,
              fb_es="no hay capas Dense ocultas: el modelo es una regresión logística",
              fb_en="no hidden Dense layer: the model is a logistic regression",
              layers=[{"name": "dense", "type": "Dense", "units": 1, "activation": "sigmoid",
                       "output_shape": [None, 1], "params": 8}]),
        ok("output", "Salida sigmoide con entropía cruzada binaria", "Sigmoid output with binary cross-entropy", 3),
        ok("input", "Acepta 7 variables", "Accepts 7 features", 2),
        check("accuracy", "Exactitud en el conjunto reservado ≥ 0,75", "Held-out accuracy ≥ 0.75", "failed", 2.0, 10,
              hidden=True, fb_es="exactitud 0,67 (objetivo ≥ 0,75)", fb_en="accuracy 0.67 (target ≥ 0.75)",
              expected="accuracy ≥ 0.75", found=0.6687, accuracy=0.6687, n_test=332, n_invalid=0, epochs=4, fits=1,
              curves={"loss": [0.9, 0.8, 0.74, 0.7], "accuracy": [0.5, 0.6, 0.64, 0.66]},
              confusion_matrix={"labels": ["no", "sí"], "counts": [[180, 43], [67, 42]]}),
        ok("time", "Dentro del límite de tiempo", "Within the time limit", 2,
           curves={"loss": [0.9, 0.8, 0.74, 0.7], "accuracy": [0.5, 0.6, 0.64, 0.66]}),
    ], student_time_s=5.5)
    return submission(name, [ex01_full(), ex02, ex03_full(), ex04, ex05_full(), ex06, missing("ex07_cnn")],
                      graded_at="2025-03-14T10:35:40Z")


def timeout_student(name: str = "carla_lópez") -> SubmissionResult:
    """ex07's training ran past its limit; the rest is fine."""
    ex07 = exercise("ex07_cnn", [
        check("compiled", "Devuelve un keras.Model compilado", "Returns a compiled keras.Model", "error", 0, 1,
              fb_es="`train_model` superó el límite de tiempo de 120 s (¿un bucle infinito o un entrenamiento demasiado largo?)",
              fb_en="`train_model` took too long: it exceeded the 120 s limit (an endless loop, or training that is too long?)",
              student_error=ErrorInfo(kind="timeout", function="train_model")),
        *[check(cid, es, en, "skipped", 0, pts, hidden=hidden, fb_es="no evaluada: train_model no terminó",
                fb_en="not evaluated: train_model did not finish")
          for cid, es, en, pts, hidden in [
              ("conv", "Tiene una Conv2D", "Has a Conv2D", 3, False),
              ("downsample", "Reduce la resolución", "Downsamples", 2, False),
              ("softmax", "Salida softmax de 10 clases", "10-way softmax output", 2, False),
              ("params", "A lo sumo 100.000 parámetros", "At most 100,000 parameters", 2, False),
              ("accuracy", "Exactitud en el cuarto reservado ≥ 0,95", "Held-out accuracy ≥ 0.95", 8, True),
              ("time", "Dentro del límite de tiempo", "Within the time limit", 2, False)]],
    ], status="timeout", message=Msg("el ejercicio superó su límite de tiempo (120 s)",
                                     "the exercise ran past its time limit (120 s)"),
        output="Epoch 1/500\n" + "".join(f"Epoch {i}/500\n" for i in range(2, 400)), duration_s=121.0)
    return submission(name, [ex01_full(), ex02_full(), ex03_full(), ex04_full(), ex05_full(), ex06_full(), ex07],
                      graded_at="2025-03-14T10:41:12Z")


def not_submitted_student(name: str = "darío_ausente") -> SubmissionResult:
    return submission(name, [missing(ex) for ex in EXERCISE_IDS], duration_s=0.2)


def self_check_student(name: str = "elena_local") -> SubmissionResult:
    """A student's local check: hidden checks were not run, their points are pending."""
    ex06 = ex06_full()
    visible = tuple(c for c in ex06.checks if not c.hidden)
    ex06 = replace(ex06, checks=visible, hidden_points=10.0)
    return submission(name, [ex02_full(), ex06], isolation="basic")


def adversarial_student(name: str = XSS) -> SubmissionResult:
    """Student-controlled text everywhere: name, layer names, exception, output, metric names."""
    evil_layers = [dict(SEQ_LAYERS[0], name=XSS), dict(SEQ_LAYERS[1], name=XSS_IMG, activation=XSS)]
    ex02 = exercise("ex02_sequential", [
        check("first_layer", "Primera capa: 32 unidades, relu", "First layer: 32 units, relu", "failed", 0, 2,
              fb_es=f"capa 2: se esperaba sigmoid, hay {XSS}", fb_en=f"layer 2: expected sigmoid, found {XSS}",
              expected="sigmoid", found=XSS, layers=evil_layers, expected_layers=SEQ_EXPECTED,
              tampering=f"exit at load time (sys.exit/exit): a known way to forge a passing run elsewhere {XSS}"),
        check("compiled", "Compilado", "Compiled", "error", 0, 2,
              fb_es="build_model lanzó RuntimeError", fb_en="build_model raised RuntimeError",
              student_error=ErrorInfo(kind="raised", function="build_model", type=f"RuntimeError{XSS}",
                                      message=f"{XSS_IMG} boom </pre></details>",
                                      frames=(Frame(3, XSS_IMG, f"raise RuntimeError('{XSS}')"),)),
              curves={XSS: [1.0, 0.5], "$\\frac{": [0.2, 0.1]},
              confusion_matrix={"labels": [XSS, "b"], "counts": [[1, 0], [0, 1]]},
              optimizer=XSS, counted_by=XSS_IMG, self_reported_fit_calls=XSS, **{f"self_reported_{XSS}": XSS_IMG},
              grader_error="Traceback (most recent call last):\n  File \"tfgrade/engine/plugin.py\", line 99\nKeyError: 'SECRET_HOLDOUT_PATH'",
              **{XSS: XSS}),
    ], status="crashed", message=Msg(f"el proceso terminó: {XSS}", f"the process died: {XSS}"),
        output=f"</pre><script>alert(3)</script>{XSS_IMG}\n")
    return submission(name, [ex02], graded_at="2025-03-14T10:50:00Z")


def class_results() -> list[SubmissionResult]:
    return [full_marks_student(), failing_student(), timeout_student(), not_submitted_student(),
            adversarial_student()]
