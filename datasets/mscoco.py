"""``mscoco``: MS-COCO in the pre-split HDF5 family (docs/datasets.md).

80 labels, 2,000-d bag-of-words text (CMMQ's setting). Files, under ``<data_root>/mscoco/``:
``raw_coco.mat`` (BMC-SDNU: ``I_tr, T_tr, L_tr, I_te, T_te, L_te, I_db, T_db, L_db``, MATLAB
v7.3) or ``MS-COCO.h5`` (CMMQ / NRCH keys ``ImgTrain, TagTrain, LabTrain, ImgQuery, …,
ImgDataBase, …``). The image variables may hold raw images or features (NRCH's 4096-d VGG;
its 300-d Doc2Vec text is then read as dense text features). Rows are the blocks concatenated
as train, query, database.

Split: by default the one frozen in the file (CMMQ Table 1: 5,000 query / 10,000 train /
117,218 database; the training block is a separate copy of database items). ``split=seeded``
draws 5,000 / 10,000 ⊂ rest from the query + database rows instead. Default R of mAP@R: 5000.
"""

from __future__ import annotations

from .release import ReleaseSpec, release_entry

SPEC = ReleaseSpec(
    name="mscoco",
    folder="mscoco",
    title="MS-COCO (pre-split HDF5)",
    num_query=5000,
    num_train=10000,
    expected_items=None,
    expected_classes=80,
    expected_text_dim=2000,
    presplit_files=("raw_coco.mat", "MS-COCO.h5"),
    where_to_get="the BMC-SDNU/Cross-Modal-Hashing-Retrieval release (raw_coco.mat) or a CMMQ/NRCH-style "
    "MS-COCO.h5 built from COCO 2014 (122,218 pairs)",
    default_topk=5000,
    notes="CMMQ: 5,000 query + 117,218 database = 122,218 pairs; 10,000 training pairs drawn from the database",
)

ENTRY = release_entry(
    SPEC,
    "MS-COCO, pre-split HDF5 (raw_coco.mat / MS-COCO.h5): 80 labels, 2000-d text, "
    "images or features; split 5,000 / 10,000 / rest (frozen in the file)",
    display_name="MS-COCO",
    order=30,
)
