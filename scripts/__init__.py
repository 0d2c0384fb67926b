"""Project maintenance scripts (lock, layering contract, configuration page).

They may import the packages; no runtime package (api, qa, index, prompts) imports them.
"""
