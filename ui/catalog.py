"""The one list of the lab's pages: the router builds the navigation from it, the home page its table of contents.

Titles and summaries are English source strings (``N_``): the router and the home page show them through the
catalogue, in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.lab.messages import N_


@dataclass(frozen=True)
class PageEntry:
    script: str  # path from the repository root
    title: str
    icon: str
    url_path: str
    summary: str  # one paragraph for the home page
    source: str  # paper and blog post


HOME = PageEntry("pages/home.py", N_("Home"), ":material/home:", "home", "", "")

PAGES: tuple[PageEntry, ...] = (
    PageEntry(
        "pages/perturbed_masking.py",
        N_("Perturbed masking"),
        ":material/account_tree:",
        "perturbed-masking",
        N_(
            "What syntax does a BERT encoder know? The impact matrix of every layer, dependency and constituency trees "
            "decoded from it without training, compared with spaCy's parser and the right-chain baseline; unsupervised "
            "Chinese word segmentation beside jieba."
        ),
        "Wu et al., ACL 2020; kexue.fm 7476",
    ),
    PageEntry(
        "pages/integrated_gradients.py",
        N_("Integrated gradients"),
        ":material/gradient:",
        "integrated-gradients",
        N_(
            "Which tokens or pixels drove a prediction? Integrated gradients with the completeness gap on every "
            "result, "
            "Su's variant, gradients and gradient x input side by side, for Chinese and English sentiment classifiers "
            "and a Fashion-MNIST CNN trained here."
        ),
        "Sundararajan et al. 2017; kexue.fm 7533",
    ),
    PageEntry(
        "pages/optimizers.py",
        N_("Optimizers"),
        ":material/trending_down:",
        "optimizers",
        N_(
            "Lookahead and LazyOptimizer for Keras 3: paths on Rosenbrock, Beale, Himmelblau, Rastrigin, a saddle and "
            "an ill-conditioned quadratic with the slow weights drawn apart, and seeded training runs (Fashion-MNIST "
            "CNN, "
            "a review classifier with a large embedding table)."
        ),
        "Zhang et al. 2019; kexue.fm, 2019-07-30",
    ),
    PageEntry(
        "pages/vae.py",
        N_("VAE geometry"),
        ":material/scatter_plot:",
        "vae",
        N_(
            "Why does a VAE's noise make its latent space usable? Autoencoder and VAE side by side on Fashion-MNIST: "
            "latent means, posterior ellipses, the noise ball, decoded grids over the prior and interpolations."
        ),
        "kexue.fm 7725",
    ),
    PageEntry(
        "pages/decoding.py",
        N_("Decoding that never stops"),
        ":material/all_inclusive:",
        "decoding",
        N_(
            "Why does generation sometimes never stop? Greedy, beam, top-k, nucleus and ancestral decoding side by "
            "side with SmolLM2 and two LSTMs trained here: loops highlighted, p(EOS) at every step, the share still "
            "running against L over a prompt set, and the fixes: consistent sampling and a self-terminating output "
            "layer."
        ),
        "Welleck et al., EMNLP 2020; kexue.fm 7500",
    ),
    PageEntry(
        "pages/recompute.py",
        N_("Recompute"),
        ":material/memory:",
        "recompute",
        N_(
            "How much more batch fits in a memory budget when activations are recomputed instead of kept? Every "
            "Keras 3 recompute strategy (RematScope modes, keras.remat, per block, every sqrt(n) blocks) and "
            "torch's gradient checkpointing, measured here: peak memory, step time, the largest batch, and the "
            "gradients checked with dropout on."
        ),
        "Chen et al. 2016; kexue.fm, 2020-04-29",
    ),
    PageEntry(
        "pages/bidirectional.py",
        N_("Bidirectional decoding"),
        ":material/swap_horiz:",
        "bidirectional",
        N_(
            "Does decoding from both ends fix the errors a left-to-right decoder piles up at the end? Pinyin to "
            "Chinese characters with L2R, R2L and Su's synchronous bidirectional beam search on seq2seq models "
            "trained here, step by step, scored by position on held-out People's Daily clauses against two "
            "non-neural baselines."
        ),
        "Zhou, Zhang and Zong, TACL 2019; kexue.fm 6877",
    ),
    PageEntry(
        "pages/reading_comprehension.py",
        N_("Reading comprehension"),
        ":material/menu_book:",
        "reading-comprehension",
        N_(
            "Where does a convolutional reader look for an answer? Su's DGCNN, trained here on questions made from "
            "People's Daily, answers 谁/哪里/哪个机构 questions about a Chinese passage: start and end "
            "probabilities over every character, the has-an-answer gate, the question's attention, the receptive "
            "field of its dilations, scored against a BiLSTM twin and two heuristics."
        ),
        "kexue.fm 5409, 6906",
    ),
)
