"""Statistics engine for ukbstudy: agreement, group comparison and regression tables.

Pure functions over arrays and data frames; nothing here imports Django, so results can be checked
against trusted libraries and reused by pages, the API and exports.
"""
