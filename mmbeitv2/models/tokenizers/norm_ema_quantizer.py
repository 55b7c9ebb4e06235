# Copyright (c) mmbeitv2 contributors. All rights reserved.
# Modified from https://github.com/microsoft/unilm/blob/master/beit2/norm_ema_quantizer.py  # noqa: E501
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from einops import rearrange
from mmengine.dist import all_reduce, broadcast, get_rank
from mmengine.logging import print_log
from torch import nn

from mmbeitv2.registry import MODELS
from .codebook_utils import cosine_kmeans, l2norm


class EmbeddingEMA(nn.Module):
    """The codebook: ``weight`` (K, D) unit vectors, plus the official
    ``cluster_size``/``embed_avg`` buffers (kept only so official
    checkpoints load strictly; the classic VQ-VAE EMA that would use them is
    never called, docs/official.md §1.3.3) and ``initted`` (1 after k-means).

    All four are buffers, so they are never in the optimizer, while their
    state-dict keys are the official ``quantize.embedding.*`` names.
    """

    def __init__(self, num_tokens: int, codebook_dim: int,
                 kmeans_init: bool = True) -> None:
        super().__init__()
        if kmeans_init:
            weight = torch.zeros(num_tokens, codebook_dim)
        else:
            weight = l2norm(torch.randn(num_tokens, codebook_dim))
        self.register_buffer('weight', weight)
        self.register_buffer('cluster_size', torch.zeros(num_tokens))
        self.register_buffer('embed_avg', weight.clone())
        self.register_buffer('initted',
                             torch.tensor([0. if kmeans_init else 1.]))

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return F.embedding(idx, self.weight)


def _check_quantizer_args(num_embed: int, embed_dims: int, beta: float,
                          decay: float, kmeans_iters: int,
                          dead_code_threshold: int) -> None:
    """Raise a one-line :class:`ConfigValueError` for a value that cannot
    build a codebook (e.g. ``quantizer.num_embed=-5``)."""
    from mmbeitv2.errors import ConfigValueError
    checks = [
        ('num_embed', num_embed, 'an integer >= 1 (the codebook size K, '
         '8192 in the paper)', isinstance(num_embed, int) and num_embed >= 1),
        ('embed_dims', embed_dims, 'an integer >= 1 (the code dimension D, '
         '32 in the paper)', isinstance(embed_dims, int) and embed_dims >= 1),
        ('beta', beta, 'a number >= 0',
         isinstance(beta, (int, float)) and beta >= 0),
        ('decay', decay, 'a number in [0, 1] (0.99 in the paper)',
         isinstance(decay, (int, float)) and 0 <= decay <= 1),
        ('kmeans_iters', kmeans_iters, 'an integer >= 0',
         isinstance(kmeans_iters, int) and kmeans_iters >= 0),
        ('dead_code_threshold', dead_code_threshold, 'an integer >= 0',
         isinstance(dead_code_threshold, int) and dead_code_threshold >= 0),
    ]
    for name, value, valid, ok in checks:
        if not ok:
            raise ConfigValueError(
                f'NormEMAVectorQuantizer: quantizer.{name}={value!r} is '
                f'invalid, it must be {valid}; fix it in the config or with '
                f'--cfg-options (model.quantizer.{name} for VQ-KD, '
                f'model.target_generator.quantizer.{name} for pretraining)')


@MODELS.register_module()
class NormEMAVectorQuantizer(nn.Module):
    """The VQ-KD quantizer: l2-normalised codebook, normalised-centroid EMA.

    Exact official rule (docs/official.md §1.3): ``z = l2norm(z_e)``; ``idx =
    argmin
    ||z||^2 + ||e||^2 - 2 z.e``; in a training update, ``bins`` and
    ``embed_sum`` are all-reduced (SUM) over ranks, ``m = l2norm(embed_sum /
    max(bins, 1))`` (the old code where ``bins == 0``) and ``e <-
    l2norm(decay * e + (1 - decay) * m)``; ``cluster_size`` is an EMA of
    ``bins``. The loss is ``beta * mse(z_q.detach(), z)``; the output is the
    straight-through ``z + (z_q - z).detach()``.

    Differences from the official code, all on purpose:

    * **k-means init is synced**: it runs on rank 0's first batch (the
      official semantics there) and the codebook is broadcast, so every rank
      starts from the same codebook (official: one per rank, docs/official.md
      §1.3.1). It runs only in an update step while ``initted == 0``, never
      after a checkpoint (which carries ``initted = 1``) was loaded.
    * **Eval mode mutates nothing.** The official code EMA-updates
      ``cluster_size`` (and all-reduces) in eval mode too (docs/official.md
      §1.3.6); here a frozen tokenizer stays bit-identical.
    * **Optional dead-code restart** (``dead_code_threshold > 0``, off by
      default as in the paper): a code with no global hit for that many
      consecutive update steps is re-seeded from a random vector of rank 0's
      current batch, then broadcast. Needed on small data (docs/official.md
      §7.4).
    * All codebook math runs in fp32, also under autocast.

    Args:
        num_embed (int): Codebook size K. Defaults to 8192.
        embed_dims (int): Code dimension D. Defaults to 32.
        beta (float): Commitment weight. Defaults to 1.0.
        decay (float): EMA decay. Defaults to 0.99.
        kmeans_init (bool): Init by cosine k-means on the first batch.
            Defaults to True.
        kmeans_iters (int): k-means iterations. Defaults to 10.
        dead_code_threshold (int): Restart codes unused for this many update
            steps; 0 disables. Defaults to 0.
    """

    def __init__(self,
                 num_embed: int = 8192,
                 embed_dims: int = 32,
                 beta: float = 1.0,
                 decay: float = 0.99,
                 kmeans_init: bool = True,
                 kmeans_iters: int = 10,
                 dead_code_threshold: int = 0) -> None:
        super().__init__()
        _check_quantizer_args(num_embed, embed_dims, beta, decay,
                              kmeans_iters, dead_code_threshold)
        self.num_tokens = num_embed
        self.codebook_dim = embed_dims
        self.beta = beta
        self.decay = decay
        self.kmeans_iters = kmeans_iters
        self.dead_code_threshold = dead_code_threshold
        self.embedding = EmbeddingEMA(num_embed, embed_dims, kmeans_init)
        # Official statistics buffer, separate from embedding.cluster_size.
        self.register_buffer('cluster_size', torch.zeros(num_embed))
        # Steps since each code was last hit (dead-code restart). Saved, so
        # that a resumed run restarts the same codes; files without it
        # (official tokenizers, older checkpoints) still load strictly, as
        # zeros (see _load_from_state_dict).
        self.register_buffer('steps_unused',
                             torch.zeros(num_embed, dtype=torch.long))

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args,
                              **kwargs) -> None:
        # `steps_unused` is absent from official files and from checkpoints
        # saved before it was persistent: start its count at zero then.
        key = prefix + 'steps_unused'
        if key not in state_dict:
            state_dict[key] = torch.zeros_like(self.steps_unused)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    @property
    def initted(self) -> bool:
        return bool(self.embedding.initted.item())

    @torch.no_grad()
    def init_codebook_(self, z: torch.Tensor) -> None:
        """Cosine k-means on rank 0's vectors, broadcast to every rank.

        Args:
            z (torch.Tensor): (N, D) l2-normalised vectors of this rank.
        """
        if get_rank() == 0:
            embed, bins = cosine_kmeans(z, self.num_tokens, self.kmeans_iters)
            self.embedding.weight.copy_(embed)
            self.embedding.cluster_size.copy_(bins.float())
        broadcast(self.embedding.weight, 0)
        broadcast(self.embedding.cluster_size, 0)
        self.embedding.initted.fill_(1.)
        print_log(
            f'NormEMAVectorQuantizer: k-means initialised {self.num_tokens} '
            f'codes on {z.shape[0]} vectors of rank 0', logger='current')

    def reset_cluster_size(self) -> None:
        """Zero the usage statistics (before an epoch, docs/official.md
        §1.5)."""
        self.cluster_size.zero_()

    def _distances(self, z: torch.Tensor) -> torch.Tensor:
        """Same expression as unilm (keeps argmin ties identical)."""
        e = self.embedding.weight
        return z.pow(2).sum(dim=1, keepdim=True) + e.pow(2).sum(dim=1) - \
            2 * torch.einsum('bd,nd->bn', z, e)  # (N, K)

    @torch.no_grad()
    def _ema_update_(self, z: torch.Tensor, idx: torch.Tensor) -> None:
        """The official training update (docs/official.md §1.3.3, §1.3.6)."""
        onehot = F.one_hot(idx, self.num_tokens).type(z.dtype)  # (N, K)
        bins = onehot.sum(0)  # (K, )
        all_reduce(bins)
        self.cluster_size.mul_(self.decay).add_(bins, alpha=1 - self.decay)
        zero_mask = bins == 0
        embed_sum = z.t() @ onehot  # (D, K)
        all_reduce(embed_sum)
        mean = l2norm((embed_sum / bins.masked_fill(zero_mask, 1.)).t())
        mean = torch.where(zero_mask[:, None], self.embedding.weight, mean)
        weight = self.embedding.weight
        weight.mul_(self.decay).add_(mean, alpha=1 - self.decay)
        weight.copy_(l2norm(weight))
        if self.dead_code_threshold > 0:
            self._restart_dead_codes_(z, zero_mask)

    @torch.no_grad()
    def _restart_dead_codes_(self, z: torch.Tensor,
                             zero_mask: torch.Tensor) -> None:
        # zero_mask comes from all-reduced bins: the same on every rank.
        self.steps_unused.add_(1).masked_fill_(~zero_mask, 0)
        dead = self.steps_unused >= self.dead_code_threshold
        num_dead = int(dead.sum().item())
        if num_dead == 0:
            return
        if get_rank() == 0:
            pick = torch.randint(0, z.shape[0], (num_dead, ), device=z.device)
            self.embedding.weight[dead] = z[pick]
        broadcast(self.embedding.weight, 0)
        self.steps_unused.masked_fill_(dead, 0)

    @torch.no_grad()
    def code_ids(self, z_e: torch.Tensor) -> torch.Tensor:
        """Nearest code of each vector, never updating anything.

        Same arithmetic as :meth:`forward` (fp32, l2-normalised, the unilm
        distance expression), so the ids are the same.

        Args:
            z_e (torch.Tensor): (..., D) encoder vectors, e.g. (B, N, D).

        Returns:
            torch.Tensor: (...) long code ids.
        """
        with torch.autocast(device_type=z_e.device.type, enabled=False):
            z = l2norm(z_e.float())
            idx = self._distances(z.reshape(-1, self.codebook_dim)).argmin(1)
        return idx.view(z.shape[:-1])

    def forward(
        self,
        z_e: torch.Tensor,
        update: Optional[bool] = None
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Quantize a feature map.

        Args:
            z_e (torch.Tensor): (B, D, H, W) encoder output.
            update (bool, optional): Run k-means init (if needed) and the EMA
                update. Defaults to None, meaning ``self.training``.

        Returns:
            tuple: straight-through z_q (B, D, H, W) fp32, the commitment
            loss, and the code ids (B*H*W, ) in raster order.
        """
        update = self.training if update is None else update
        with torch.autocast(device_type=z_e.device.type, enabled=False):
            z = l2norm(rearrange(z_e.float(), 'b c h w -> b h w c'))
            z_flat = z.reshape(-1, self.codebook_dim)  # (N, D)
            if update and not self.initted:
                self.init_codebook_(z_flat.detach())
            idx = self._distances(z_flat).argmin(dim=1)  # (N, )
            z_q = self.embedding(idx).view(z.shape)  # (B, H, W, D)
            if update:
                self._ema_update_(z_flat.detach(), idx)
            loss = self.beta * F.mse_loss(z_q.detach(), z)
            z_q = z + (z_q - z).detach()  # straight-through estimator
            z_q = rearrange(z_q, 'b h w c -> b c h w')
        return z_q, loss, idx
