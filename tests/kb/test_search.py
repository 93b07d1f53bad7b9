"""Knowledge-base search: Persian spelling variants find the same article, results rank by relevance,
symptom and terminal model narrow and boost; the same on SQLite (Python scoring) and PostgreSQL
(full-text search)."""
from __future__ import annotations

import pytest

from fieldsvc.db import db
from fieldsvc.visits.desk import kb
from fieldsvc.visits.desk.kb_search import search_tokens
from tests.kb.conftest import article


@pytest.mark.parametrize("typed, stored", [
    ("كارت خوان", "کارت خوان"),             # Arabic kaf
    ("دستگاه روشن نمي‌شود", "دستگاه روشن نمی‌شود"),  # Arabic yeh
    ("خطای ۱۰۲", "خطای 102"),                # Persian digits
    ("خطای ١٠٢", "خطای 102"),                # Arabic-Indic digits
    ("نمی‌شود", "نمیشود"),                   # half-space vs written together
])
def test_spelling_variants_give_the_same_tokens(typed, stored):
    assert search_tokens(typed) == search_tokens(stored)


def test_half_space_word_typed_apart_matches_its_parts():
    assert set(search_tokens("نمی شود")) <= set(search_tokens("نمی‌شود", index=True))


def test_arabic_letters_persian_digits_and_half_spaces_find_the_article(world):
    a = article(world, title_fa="کارت‌خوان کارت را نمی‌خواند", steps_fa="خطای ۱۰۲ را ببینید\nهد را تمیز کنید",
                symptom_codes=["card_reader"])
    other = article(world, title_fa="باتری شارژ نمی‌شود", steps_fa="شارژر را عوض کنید", symptom_codes=["battery"])
    user = world.users["psp-p1"]
    for q in ("كارتخوان", "کارت خوان", "نمي‌خواند", "خطای 102", "خطاي ١٠٢", "کارت‌خوان"):
        hits = kb.search(user, q)
        assert hits and hits[0].article.id == a.id, q
        assert other.id not in [h.article.id for h in hits], q


def test_title_matches_rank_above_body_matches_and_more_words_above_fewer(world):
    body_only = article(world, title_fa="راه‌اندازی دوباره", steps_fa="اگر چاپگر کاغذ نگرفت دکمه را بزنید")
    title = article(world, title_fa="چاپگر کاغذ را نمی‌کشد", steps_fa="غلتک را تمیز کنید")
    partial = article(world, title_fa="چاپگر خاموش است", steps_fa="کابل را ببینید")
    hits = kb.search(world.users["psp-p1"], "چاپگر کاغذ")
    ids = [h.article.id for h in hits]
    assert ids[0] == title.id
    assert ids.index(partial.id) < ids.index(body_only.id)
    assert hits[0].score > hits[-1].score


def test_prefix_of_a_word_matches():
    from fieldsvc.visits.desk.kb_search import query_groups, text_score
    assert text_score(query_groups("چاپ"), "چاپگر", "") > 0
    assert text_score(query_groups("چا"), "چاپگر", "") == 0  # too short for a prefix


def test_symptom_and_model_narrow_and_boost(world):
    generic = article(world, title_fa="راه‌اندازی دوباره پایانه", steps_fa="دستگاه را خاموش و روشن کنید",
                      symptom_codes=[], terminal_models=[])
    pax = article(world, title_fa="راه‌اندازی دوباره چاپگر", steps_fa="کلید را نگه دارید",
                  symptom_codes=["printer"], terminal_models=["pax s90"])
    verifone = article(world, title_fa="راه‌اندازی دوباره چاپگر", steps_fa="کلید را نگه دارید",
                       symptom_codes=["printer"], terminal_models=["VX520"])
    user = world.users["psp-p1"]
    hits = kb.search(user, "راه‌اندازی", model="PAX S90", symptom="printer")
    ids = [h.article.id for h in hits]
    assert verifone.id not in ids and ids[0] == pax.id and generic.id in ids
    assert hits[0].symptom_match and hits[0].model_match
    # without words: articles for the symptom and model, specific before generic
    ids = [h.article.id for h in kb.search(user, "", model="PAX-S90", symptom="printer")]
    assert ids[0] == pax.id and verifone.id not in ids


def test_articles_that_fixed_more_calls_rank_first_among_equals(world, fixed_now):
    from tests.calls.conftest import new_call
    a = article(world, title_fa="چاپگر", steps_fa="یک")
    b = article(world, title_fa="چاپگر", steps_fa="یک")
    call = new_call(world)
    kb.record_outcome(world.users["psp-p1"], call, b, "fixed")
    ids = [h.article.id for h in kb.search(world.users["psp-p1"], "چاپگر")]
    assert ids.index(b.id) < ids.index(a.id)


def test_scope_other_psp_never_sees_the_article(world):
    mine = article(world)
    shared = article(world, user="admin", psp_id=None)
    assert {h.article.id for h in kb.search(world.users["psp-p2"], "چاپگر")} == {shared.id}
    assert {h.article.id for h in kb.search(world.users["dispatcher-c2"], "چاپگر")} == {shared.id}
    assert {h.article.id for h in kb.search(world.users["dispatcher-c1"], "چاپگر")} == {mine.id, shared.id}


def test_inactive_articles_are_not_suggested(world):
    a = article(world)
    kb.save_article(world.users["psp-p1"], {**_data(a), "active": False}, a)
    assert kb.search(world.users["psp-p1"], "چاپگر") == []


def _data(a):
    return {k: getattr(a, k) for k in ("title_fa", "title_en", "steps_fa", "steps_en", "symptom_codes",
                                       "terminal_models")}


def test_search_text_follows_edits(world):
    a = article(world)
    kb.save_article(world.users["psp-p1"], {**_data(a), "title_fa": "صفحه کلید خراب"}, a)
    assert [h.article.id for h in kb.search(world.users["psp-p1"], "صفحه‌کلید")] == [a.id]
    assert kb.search(world.users["psp-p1"], "چاپگر") == [] or db.session.get(type(a), a.id).search_title


def test_postgresql_full_text_search_and_its_index(world):
    """On PostgreSQL the search runs in the database (to_tsvector('simple', …) with ts_rank) and the
    GIN index of the same expression exists; the SQLite run covers the Python fallback."""
    from sqlalchemy import text

    from fieldsvc.visits.desk.kb_search import query_groups, tsquery_text
    from fieldsvc.visits.desk_extra_models import FTS_DOCUMENT
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only (FIELDSVC_TEST_DATABASE_URL)")
    a = article(world, title_fa="کارت‌خوان کار نمی‌کند", steps_fa="هد را تمیز کنید")
    rank = db.session.execute(text(f"select ts_rank({FTS_DOCUMENT}, to_tsquery('simple', :q)) from kb_article "
                                   f"where id = :id and {FTS_DOCUMENT} @@ to_tsquery('simple', :q)"),
                              {"q": tsquery_text(query_groups("كارت خوان")), "id": a.id}).scalar()
    assert rank and rank > 0
    assert db.session.execute(text("select 1 from pg_indexes where indexname = 'ix_kb_article_fts'")).scalar() == 1
    hits = kb.search(world.users["psp-p1"], "كارت خوان")
    assert [h.article.id for h in hits] == [a.id] and 0 < hits[0].text_score < 1  # a ts_rank, not a count
