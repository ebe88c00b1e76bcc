package sqlstore

// ConvStatesQuery is convStatesQuery for the plan tests of the stores'
// packages.
var ConvStatesQuery = convStatesQuery

// LoginStateQuery is the store's LoginState statement.
func LoginStateQuery(s *Store, convs bool) string { return s.loginStateQuery(convs) }
