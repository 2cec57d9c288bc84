"""Reading comprehension with Su's DGCNN (kexue.fm 5409, 6906) on questions built here from People's Daily.

``data`` builds the questions (cloze sentences turned into 谁 / 哪里 / 哪个机构 questions, Lewis et al. 2019),
their passages and the unanswerable negatives, split by window.
"""
