"""The sequence backbone that every sequence model starts from: inputs -> encoded slots -> attention blocks.

A task's model is this backbone plus its head: the attention models keep
`head.num_blocks` self-attention blocks, the pooling and fully-connected
baselines none (`attention=False`). Without `positions` the slots are a set:
every model but the fully-connected one (which flattens them in order) gives
the same answer for any order of the images. Tasks about order turn
`positions` on.
"""

from mnist_vit.sequences import MAX_LEN
from mnist_vit.slots import SlotPositions, encode_slots, sequence_inputs
from mnist_vit.transformer_block import TransformerEncoderBlock


def sequence_backbone(encoder, head, has_anchor=False, attention=True, positions=False):
    """The model inputs and the features of every slot.

    Args:
        encoder: built image encoder, raw `(28, 28, 1)` image -> `(embed_dim,)`;
            one encoder (shared weights) embeds every slot.
        head: `HeadConfig`: `num_blocks`, `num_heads` (must divide
            `embed_dim`), `ff_dim` and `dropout` of the blocks.
        has_anchor: bool. Add the `"anchor"` input (`sequence_inputs`) and
            encode it with the same encoder.
        attention: bool. Apply `head.num_blocks` pre-norm self-attention
            blocks (`block_0`, ...) that never attend to padding; False: none.
        positions: bool. Add a learned embedding of each slot's position
            to its encoding (`SlotPositions`, layer `positions`), before the
            blocks; the model then takes at most `MAX_LEN` slots.

    Returns:
        `(inputs, slots, anchor)`: the inputs dict (`"sequence"` float32
        `(batch, slots, 28, 28, 1)`, `"mask"` bool `(batch, slots)`, true on
        real slots, and `"anchor"` if `has_anchor`), the slot features
        `(batch, slots, embed_dim)` (padded slots' features are whatever the
        layers make of zeros: mask them downstream) and the anchor's
        embedding `(batch, embed_dim)`, None without an anchor.
    """
    inputs = sequence_inputs(has_anchor=has_anchor)
    anchor = encoder(inputs["anchor"]) if has_anchor else None
    slots = encode_slots(encoder, inputs["sequence"])
    if positions:
        slots = SlotPositions(MAX_LEN, name="positions")(slots)
    for i in range(head.num_blocks if attention else 0):
        slots = TransformerEncoderBlock(head.num_heads, head.ff_dim, head.dropout, name=f"block_{i}")(
            slots, padding_mask=inputs["mask"]
        )
    return inputs, slots, anchor
