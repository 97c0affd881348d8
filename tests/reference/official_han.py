"""Test oracle: the official HAN network, re-written with the official structure.

Mirrors ``MMIL_Net`` of ``nets/net_audiovisual.py`` in github.com/YapengTian/AVVP-ECCV20
(commit fde5611): the same module names (so the state dict has the official
keys, unused encoders included), sequence-first ``nn.MultiheadAttention``,
``fc_v`` applied to every frame *before* the 8-frame average pooling, and the
``Encoder`` loop that feeds both modalities from the un-updated inputs.  Used
only by the tests, never by the library.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn


def _clones(module: nn.Module, n: int) -> nn.ModuleList:
    return nn.ModuleList(copy.deepcopy(module) for _ in range(n))


class Encoder(nn.Module):
    """Official ``Encoder``: ``norm`` is never passed, so norm1/norm2 stay unused."""

    def __init__(self, encoder_layer: nn.Module, num_layers: int, norm=None):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm1 = nn.LayerNorm(512)
        self.norm2 = nn.LayerNorm(512)
        self.norm = norm

    def forward(self, src_a, src_v, mask=None, src_key_padding_mask=None):
        out_a, out_v = src_a, src_v
        for layer in self.layers:
            # as in the official code: each layer reads the ORIGINAL inputs
            out_a = layer(src_a, src_v, src_mask=mask, src_key_padding_mask=src_key_padding_mask)
            out_v = layer(src_v, src_a, src_mask=mask, src_key_padding_mask=src_key_padding_mask)
        if self.norm:
            out_a = self.norm1(out_a)
            out_v = self.norm2(out_v)
        return out_a, out_v


class HANLayer(nn.Module):
    """Official ``HANLayer``: inputs (B, T, d), permuted to (T, B, d) internally."""

    def __init__(self, d_model, nhead, dim_feedforward=512, dropout=0.1):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout)
        self.cm_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.dropout11 = nn.Dropout(dropout)
        self.dropout12 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.activation = nn.ReLU()

    def forward(self, src_q, src_v, src_mask=None, src_key_padding_mask=None):
        q = src_q.permute(1, 0, 2)
        kv = src_v.permute(1, 0, 2)
        cross = self.cm_attn(q, kv, kv, attn_mask=src_mask, key_padding_mask=src_key_padding_mask)[0]
        own = self.self_attn(q, q, q, attn_mask=src_mask, key_padding_mask=src_key_padding_mask)[0]
        q = q + self.dropout11(cross) + self.dropout12(own)
        q = self.norm1(q)
        ffn = self.linear2(self.dropout(F.relu(self.linear1(q))))
        q = q + self.dropout2(ffn)
        q = self.norm2(q)
        return q.permute(1, 0, 2)


class CMTLayer(nn.Module):
    """Official ``CMTLayer`` (constructed by MMIL_Net, never called)."""

    def __init__(self, d_model, nhead, dim_feedforward=512, dropout=0.1):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.activation = nn.ReLU()

    def forward(self, src_q, src_v, src_mask=None, src_key_padding_mask=None):
        out = self.self_attn(src_q, src_v, src_v, attn_mask=src_mask, key_padding_mask=src_key_padding_mask)[0]
        src_q = self.norm1(src_q + self.dropout1(out))
        ffn = self.linear2(self.dropout(F.relu(self.linear1(src_q))))
        return self.norm2(src_q + self.dropout2(ffn))


def _unused_transformer() -> nn.TransformerEncoder:
    layer = nn.TransformerEncoderLayer(d_model=512, nhead=1, dim_feedforward=512)
    # enable_nested_tensor only silences a modern-torch warning; the keys are unchanged
    return nn.TransformerEncoder(layer, num_layers=1, enable_nested_tensor=False)


class MMIL_Net(nn.Module):  # noqa: N801 - official name
    """Official ``MMIL_Net``: returns (global_prob, a_prob, v_prob, frame_prob)."""

    def __init__(self):
        super().__init__()
        self.fc_prob = nn.Linear(512, 25)
        self.fc_frame_att = nn.Linear(512, 25)
        self.fc_av_att = nn.Linear(512, 25)
        self.fc_a = nn.Linear(128, 512)
        self.fc_v = nn.Linear(2048, 512)
        self.fc_st = nn.Linear(512, 512)
        self.fc_fusion = nn.Linear(1024, 512)
        self.audio_encoder = _unused_transformer()
        self.visual_encoder = _unused_transformer()
        self.cmt_encoder = Encoder(CMTLayer(d_model=512, nhead=1, dim_feedforward=512), num_layers=1)
        self.hat_encoder = Encoder(HANLayer(d_model=512, nhead=1, dim_feedforward=512), num_layers=1)

    def forward(self, audio, visual, visual_st):
        x1 = self.fc_a(audio)
        # project all 80 frames, then average-pool groups of 8 along time
        vid_s = self.fc_v(visual).permute(0, 2, 1).unsqueeze(-1)  # (B, 512, 80, 1)
        vid_s = F.avg_pool2d(vid_s, (8, 1)).squeeze(-1).permute(0, 2, 1)  # (B, 10, 512)
        vid_st = self.fc_st(visual_st)
        x2 = self.fc_fusion(torch.cat((vid_s, vid_st), dim=-1))

        x1, x2 = self.hat_encoder(x1, x2)

        x = torch.cat([x1.unsqueeze(-2), x2.unsqueeze(-2)], dim=-2)  # (B, T, 2, 512)
        frame_prob = torch.sigmoid(self.fc_prob(x))
        frame_att = torch.softmax(self.fc_frame_att(x), dim=1)
        av_att = torch.softmax(self.fc_av_att(x), dim=2)
        temporal_prob = frame_att * frame_prob
        global_prob = (temporal_prob * av_att).sum(dim=2).sum(dim=1)
        a_prob = temporal_prob[:, :, 0, :].sum(dim=1)
        v_prob = temporal_prob[:, :, 1, :].sum(dim=1)
        return global_prob, a_prob, v_prob, frame_prob
