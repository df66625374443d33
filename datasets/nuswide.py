"""``nuswide``: NUS-WIDE TC-10 as DCMH released it (docs/datasets.md).

The 10 most frequent of NUS-WIDE's 81 concepts, 1,000-d bag-of-words tags (``AllTags1k``).
DCMH's files keep every image with at least one of the 10 labels: **186,577** pairs (iTomxy/data
counts; 181,365 when empty-tag pairs are also dropped). Files, under ``<data_root>/nuswide/``:

* DCMH split files ``nus-wide-tc10-iall.mat`` (``IAll``, v7.3 images), ``nus-wide-tc10-yall.mat``
  (``YAll``; circulates both as v5 and v7.3 — the header decides), ``nus-wide-tc10-lall.mat``
  (``LAll``) — in the folder or its ``IAll/``, ``YAll/``, ``LAll/`` sub-folders;
* or a pre-split ``raw_nus.mat`` (BMC-SDNU) / ``NUS-WIDE.h5`` (CMMQ, NRCH) file.

Standard split (CMMQ Table 1): 2,100 query / 10,500 train / the rest database (train ⊂
database). Note: the CMMQ paper reports 190,421 pairs and a 178,321-item database, which is
the TC-21 non-empty-text count (iTomxy/data nuswide/README.md); with DCMH's TC-10 files the database has
186,577 − 2,100 = 184,477 items. Default R of mAP@R: 5000.
"""

from __future__ import annotations

from .release import FileSpec, ReleaseSpec, release_entry

SPEC = ReleaseSpec(
    name="nuswide",
    folder="nuswide",
    title="NUS-WIDE TC-10 (DCMH release)",
    num_query=2100,
    num_train=10500,
    expected_items=186577,
    expected_classes=10,
    expected_text_dim=1000,
    split_files=(
        FileSpec("nus-wide-tc10-iall.mat", "IAll", "IAll"),
        FileSpec("nus-wide-tc10-yall.mat", "YAll", "YAll"),
        FileSpec("nus-wide-tc10-lall.mat", "LAll", "LAll"),
    ),
    presplit_files=("raw_nus.mat", "NUS-WIDE.h5"),
    where_to_get="the DCMH authors' Baidu Pan folders listed in DCMH_matlab/readme.txt of "
    "github.com/jiangqy/DCMH-CVPR2017",
    default_topk=5000,
    notes="CMMQ reports 190,421 pairs (the TC-21 non-empty-text count); DCMH's TC-10 files hold 186,577",
)

ENTRY = release_entry(
    SPEC,
    "NUS-WIDE TC-10, DCMH release: 186,577 pairs, 10 labels, 1000-d tags, images or "
    "features; split 2,100 / 10,500 / rest",
    display_name="NUS-WIDE",
    order=20,
)
