"""How bench/matching.py tells a listed variant that is a spelling of a name from another name
(bench/spelling.py): decided from the names alone, with examples from the lists."""

from __future__ import annotations

import pytest
from support import bench_script

same_name = bench_script("spelling").same_name


@pytest.mark.parametrize(
    ("variant", "name"),
    [
        ("AL-DAYF, Muhammad", "DEIF, Muhammed"),
        ("LUKASHENKO, Aleksandr Ryhoravich", "LUKASHENKA, Alyaksandr Hryhoryavich"),
        ("QADHAFI, Saif Al-Arab", "GADDAFI, Saif Al-Arab"),
        ("AL AGHA, Abu Obaida Khairi Hafiz", "AL-AGHA, Abu Ubaydah Khayri Hafiz"),
        ("ABDELMALEK, Droukdel", "DROUKDEL, Abdelmalek"),  # order is free
        ("ALJABOURI, Mashaan", "AL-JABURI, Mashaan"),  # the article joined
        ("MAHMUDI, Qolam Reza", "MAHMOUDI, Gholamreza"),  # two words written as one
        ("KHALIL, Ahmad Murtadha Ahmad", "KHALIL, Dr. Ahmad Murtada Ahmad"),  # a title aside
        ("NIKULOV, Gennady A.", "NIKULOV, Gennadii Anatolievich"),  # an initial
        ("RI, T'ae-Ch'o'l", "RI, Thae Chol"),
        ("القاعدة", "AL-QAIDA"),  # a consonant skeleton against a transliteration
        ("عصبة الأنصار", "ASBAT AL-ANSAR"),
        ("Эмират Кавказ", "EMARAT KAVKAZ"),
    ],
)
def test_a_respelling_of_every_word_is_a_spelling(variant: str, name: str) -> None:
    assert same_name(variant, name)
    assert same_name(name, variant)


@pytest.mark.parametrize(
    ("variant", "name"),
    [
        ("DE VERA, Esmael", "DE VERA, Pio Abogne"),  # another given name
        ("ZHELEZNYAK, Sergey", "ZHELEZNYAK, Sergei Vladimirovich"),  # a word fewer
        ("SAEED HAFIZ, Muhammad", "SAEED, Muhammad"),  # a word more
        ("PAVLICHENKO, Dmitri Vasilyevich", "PAULICHENKA, Dzmitry Valeryevich"),  # two fathers
        ("AL-SHEIBANI, Mustafa", "AL-SHEIBANI, Abu Mustafa"),  # a kunya is not a particle
        ("SULEIMAN, Mualem", "SALMAN, Maalim"),
        ("NOORI, Haji Faizullah", "NOORZAI, Hajji Faizullah Khan"),
        ("AHMAD, Ali", "HAMAD, Ali"),  # letters swapped at the start
        ("RI, Chae-Il", "RI, Jae Il"),  # a known limit: Korean ch/j is not folded
        ("الجماعة الاسلامية المسلحة", "ARMED ISLAMIC GROUP"),  # a translation
    ],
)
def test_another_name_or_a_word_more_is_not_a_spelling(variant: str, name: str) -> None:
    assert not same_name(variant, name)
    assert not same_name(name, variant)
