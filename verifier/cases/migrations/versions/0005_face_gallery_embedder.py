"""Galleries: face_gallery.embedder, the model that made each row's vector, so that a gallery
opened for one embedder never compares its probe with another model's vectors.

Every row before this revision came from dlib's ResNet (the gallery refused any vector but
its 128 numbers), so existing rows are tagged with that model's identity, written out here:
a migration must not change with the registry it runs beside.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# verifier.galleries.face.EmbedderIdentity label of face_recognition_resnet
# (dlib_face_recognition_resnet_model_v1.dat, sha256 55533b28a958...).
DLIB_RESNET_V1 = "face_recognition_resnet@55533b28a958"


def upgrade() -> None:
    op.add_column("face_gallery", sa.Column("embedder", sa.String(128), nullable=False,
                                            server_default=DLIB_RESNET_V1))
    # The default only tags the rows already there: every enrolment names its embedder.
    with op.batch_alter_table("face_gallery") as batch:
        batch.alter_column("embedder", server_default=None)
    op.create_index("ix_face_gallery_embedder_id", "face_gallery", ["embedder", "id"])


def downgrade() -> None:
    # Rows of another embedder would pass for dlib's once the tag is gone: drop them, and
    # count the delete as verifier.galleries.rows.delete_rows does.
    op.execute(sa.text("DELETE FROM face_gallery WHERE embedder <> :dlib")
               .bindparams(dlib=DLIB_RESNET_V1))
    op.execute(sa.text("UPDATE gallery_deletions SET deletions = deletions + 1 "
                       "WHERE table_name = 'face_gallery'"))
    op.drop_index("ix_face_gallery_embedder_id", "face_gallery")
    with op.batch_alter_table("face_gallery") as batch:
        batch.drop_column("embedder")
