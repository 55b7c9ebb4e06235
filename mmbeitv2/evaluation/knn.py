# Copyright (c) mmbeitv2 contributors. All rights reserved.
# Modified from https://github.com/facebookresearch/dino/blob/main/eval_knn.py  # noqa: E501
"""Weighted k-nearest-neighbour classifier on frozen features.

DINO's ``knn_classifier`` (Caron et al., arXiv 2104.14294, Sec. 4.1 and
``eval_knn.py``): the features are l2-normalised, a query's ``k`` most
cosine-similar bank features vote for their labels with weight
``exp(sim / T)``, and the class with the largest summed weight wins. With
``T = 0.07`` one close neighbour outweighs several farther ones, unlike a
plain majority vote. Defaults are DINO's: ``k = 20``, ``T = 0.07``.
"""
import torch
import torch.nn.functional as F


@torch.no_grad()
def knn_predict(bank: torch.Tensor,
                bank_labels: torch.Tensor,
                query: torch.Tensor,
                num_classes: int,
                k: int = 20,
                temperature: float = 0.07,
                chunk_size: int = 256) -> torch.Tensor:
    """Class of each query by a temperature-weighted kNN vote.

    Args:
        bank (torch.Tensor): (Nb, C) features of the labelled bank.
        bank_labels (torch.Tensor): (Nb, ) long labels in [0, num_classes).
        query (torch.Tensor): (Nq, C) features to classify.
        num_classes (int): Number of classes.
        k (int): Neighbours per query (at most Nb are used). Defaults to 20.
        temperature (float): T of the ``exp(sim / T)`` vote weights.
            Defaults to 0.07.
        chunk_size (int): Queries per similarity matrix (memory only; as
            DINO's ``imgs_per_chunk``). Defaults to 256.

    Returns:
        torch.Tensor: (Nq, ) long predicted classes (the lowest class index
        wins a tie).
    """
    bank = F.normalize(bank.float(), dim=1)  # (Nb, C)
    query = F.normalize(query.float(), dim=1)  # (Nq, C)
    bank_labels = bank_labels.to(bank.device).long()
    k = min(k, len(bank))
    preds = []
    for q in query.split(chunk_size):
        sim, idx = (q @ bank.t()).topk(k, dim=1)  # (Q, k) cosine, bank ids
        weight = (sim / temperature).exp()  # (Q, k)
        votes = q.new_zeros(len(q), num_classes)  # (Q, classes)
        votes.scatter_add_(1, bank_labels[idx], weight)
        preds.append(votes.argmax(dim=1))
    return torch.cat(preds) if preds else bank_labels.new_zeros(0)


def knn_top1(bank: torch.Tensor,
             bank_labels: torch.Tensor,
             query: torch.Tensor,
             query_labels: torch.Tensor,
             num_classes: int,
             k: int = 20,
             temperature: float = 0.07) -> float:
    """Top-1 accuracy (%) of :func:`knn_predict` on labelled queries.

    Args:
        bank, bank_labels, query, num_classes, k, temperature: As
            :func:`knn_predict`.
        query_labels (torch.Tensor): (Nq, ) true classes of the queries.

    Returns:
        float: Share of queries classified correctly, in percent.
    """
    pred = knn_predict(bank, bank_labels, query, num_classes, k, temperature)
    correct = pred.eq(query_labels.to(pred.device).long())
    return correct.double().mean().item() * 100
