package sqlstore

// ConvStatesQuery is convStatesQuery for the plan tests of the stores'
// packages.
var ConvStatesQuery = convStatesQuery
