"""``mirflickr25k``: MIRFlickr-25K as DCMH released it
(jiangqy/DCMH-CVPR2017 DCMH_matlab/DCMH_matlab/readme.txt).

20,015 image–tag pairs (25,000 Flickr images minus those without a label or a tag), 24
concepts (the ``*_r1`` annotations ignored), tags a 1,386-d binary bag of words. Files, under
``<data_root>/mirflickr25k/`` (forms and options: :mod:`xbench.datasets.release`):

* DCMH split files ``mirflickr25k-iall.mat`` (``IAll``, v7.3, images), ``mirflickr25k-yall.mat``
  (``YAll``), ``mirflickr25k-lall.mat`` (``LAll``) — in the folder or its ``IAll/``, ``YAll/``,
  ``LAll/`` sub-folders;
* or the single v7.3 ``FLICKR-25K.mat`` (``images``, ``YAll``, ``LAll``); DADH's v5 file of the
  same name with 4096-d CNN-F features in ``images`` is read as features;
* or a pre-split ``raw_mir.mat`` (BMC-SDNU) / ``MIRFlickr.h5`` (CMMQ, NRCH) file.

Standard split (CMMQ Table 1): 2,000 query / 10,000 train / 18,015 database, train ⊂ database,
from a seeded permutation (seed option, default 0). Default R of mAP@R: 5000.
"""

from __future__ import annotations

from .release import FileSpec, ReleaseSpec, release_entry

# Concept order of LAll (sunnyttr/MATH dataset/flickr25k/labels_annotation).
CONCEPTS = (
    "animals",
    "baby",
    "bird",
    "car",
    "clouds",
    "dog",
    "female",
    "flower",
    "food",
    "indoor",
    "lake",
    "male",
    "night",
    "people",
    "plant_life",
    "portrait",
    "river",
    "sea",
    "sky",
    "structures",
    "sunset",
    "transport",
    "tree",
    "water",
)

SPEC = ReleaseSpec(
    name="mirflickr25k",
    folder="mirflickr25k",
    title="MIRFlickr-25K (DCMH release)",
    num_query=2000,
    num_train=10000,
    expected_items=20015,
    expected_classes=24,
    expected_text_dim=1386,
    split_files=(
        FileSpec("mirflickr25k-iall.mat", "IAll", "IAll"),
        FileSpec("mirflickr25k-yall.mat", "YAll", "YAll"),
        FileSpec("mirflickr25k-lall.mat", "LAll", "LAll"),
    ),
    single_file=("FLICKR-25K.mat", ("images", "YAll", "LAll")),
    presplit_files=("raw_mir.mat", "MIRFlickr.h5"),
    class_names=CONCEPTS,
    where_to_get="the DCMH authors' Baidu Pan links in DCMH_matlab/readme.txt of github.com/jiangqy/DCMH-CVPR2017",
    default_topk=5000,
)

ENTRY = release_entry(
    SPEC,
    "MIRFlickr-25K, DCMH release: 20,015 pairs, 24 labels, 1386-d tags, raw 224×224 "
    "images or features; split 2,000 / 10,000 / 18,015",
    display_name="MIRFlickr-25K",
    order=10,
)
