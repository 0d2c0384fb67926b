"""Citations: reading ``[n]`` markers, checking that each cited passage supports its sentence,
and correcting or removing the ones that do not.

Must not import ``qa.answering``.
"""
