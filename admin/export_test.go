package admin

// CacheLookups reads imgate_cache_lookups_total of a cache and result
// (hit, miss) from a registry.
var CacheLookups = gathered
