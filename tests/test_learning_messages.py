"""The training exercises' shared feedback is catalogue data (tfgrade/messages/learning.toml):
keyed messages, numbers written per language, lists of problems joined in one place
(tfgrade.checklib.phrases)."""

from __future__ import annotations

import pytest

from tfgrade.catalogue import GRADER
from tfgrade.checklib import learning
from tfgrade.checklib.phrases import fill, join, sentence, verbatim
from tfgrade.engine.verdicts import CheckFailed, Recorder
from tfgrade.i18n import Msg

WORDING = learning.HeldOutWording(
    measured=Msg("exactitud 0,700", "accuracy 0.700", key="accuracy_measured"),
    unseen=Msg("332 pacientes que el modelo no había visto", "332 patients the model had not seen"),
    held_out=Msg("los 332 pacientes reservados", "the 332 held-out patients"),
    metric="accuracy", higher_is_better=True)


def test_join_puts_each_language_together_and_a_word_between() -> None:
    parts = [Msg("uno", "one", key="a"), Msg("dos", "two", key="b")]
    assert join(parts) == Msg("uno; dos", "one; two")
    assert join(parts).key is None                   # the message it is put in names it
    assert join([verbatim("mse"), verbatim("mae")], Msg(" o ", " or ")) == Msg("mse o mae", "mse or mae")
    assert join([]) == Msg("", "")
    assert sentence(Msg("nota", "note")) == Msg("nota.", "note.")
    assert sentence(Msg("nota.", "note.")) == Msg("nota.", "note.")


def test_fill_writes_a_msg_value_in_each_language() -> None:
    msg = fill(GRADER, "learning_held_out_full_from", measured=WORDING.measured, unseen=WORDING.unseen, full_at=0.75)
    assert msg.key == "learning_held_out_full_from"
    assert msg.en == "accuracy 0.700 on 332 patients the model had not seen (full points from 0.75)"
    assert msg.es == "exactitud 0,700 en 332 pacientes que el modelo no había visto (puntos completos desde 0,75)"
    with pytest.raises(KeyError):
        fill(GRADER, "no_such_key", measured=WORDING.measured)


def test_partial_credit_is_keyed_and_spanish_gets_decimal_commas() -> None:
    with pytest.raises(CheckFailed) as info:
        learning.grade_held_out(0.70, 0.75, 0.65, WORDING, {}, Recorder(),
                                hints=lambda: Msg("Entrena más.", "Train more."))
    msg = info.value.msg
    assert msg.key == "learning_held_out_partial"
    assert "full points at ≥ 0.75, 0 points at ≤ 0.65 (you earn 50%). Train more." in msg.en
    assert "puntos completos con ≥ 0,75, 0 puntos con ≤ 0,65 (obtienes el 50%). Entrena más." in msg.es
    assert info.value.score_fraction == 0.5


def test_full_points_and_training_time_are_keyed() -> None:
    rec = Recorder()
    learning.grade_held_out(0.80, 0.75, 0.65, WORDING, {"accuracy": 0.8}, rec, hints=lambda: Msg("", ""))
    assert rec.feedback is not None and rec.feedback.key == "learning_held_out_full_from"
    error = learning.HeldOutWording(Msg("error 1,50", "error 1.50"), WORDING.unseen, WORDING.held_out, "MAE", False)
    learning.grade_held_out(1.5, 2.2, 3.5, error, {}, rec, hints=lambda: Msg("", ""))
    assert rec.feedback.key == "learning_held_out_full_up_to" and "hasta 2,2" in rec.feedback.es
    learning.record_training_time(learning.Called("train_model", None, {}, 12.34), rec)
    assert rec.feedback.key == "learning_training_time"
    assert (rec.feedback.en, rec.feedback.es) == ("train_model took 12.3 s", "train_model tardó 12,3 s")


def test_a_value_that_is_not_a_model_is_told_once_then_briefly() -> None:
    called = learning.Called("train_model", None, {}, 1.0)
    keys = []
    for _ in range(2):
        with pytest.raises(CheckFailed) as info:
            learning.require_model(called)
        keys.append(info.value.msg.key)
    assert keys == ["learning_not_a_model", "learning_no_model_not_evaluated"]
    assert learning.PUBLIC_DATA.key == "learning_public_held_out"


def test_ex05_spanish_numbers_have_decimal_commas_like_the_others() -> None:
    from pathlib import Path

    from tfgrade.pack.course import Exercise

    folder = Path(__file__).resolve().parent.parent / "exercises" / "ex05_matrix_power"
    messages = Exercise.from_folder(folder).messages
    msg = messages("orthogonal_rel_error", n=7, err=1.53e-3, tol=1e-4)
    assert msg.en == "n = 7 (scaled orthogonal matrix): relative error 1.5e-03 > 1e-04"
    assert msg.es == "n = 7 (matriz ortogonal escalada): error relativo 1,5e-03 > 1e-04"
    numbers = messages("throughput_numbers", power=64, size=1024, seconds=0.2, needed=6, per_product_ms=33.3,
                       matmul_ms=26.6)
    assert "tardó 0,200 s, 33,3 ms" in numbers.es and "took 0.200 s, 33.3 ms" in numbers.en
