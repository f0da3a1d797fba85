"""Training-free student search (DisWOT).

The PROXIES, SEARCH_SPACES and SEARCHERS registries are declared in
``mmkd.registry``; their members arrive with the DisWOT work and are
imported from this package.
"""
