package metrics

import "github.com/prometheus/client_golang/prometheus"

// PasswordResult is how a password check ended, the value of
// imgate_password_checks_total's "result" label.
type PasswordResult int

// Password check results.
const (
	// PasswordOK: the password matched.
	PasswordOK PasswordResult = iota
	// PasswordWrong: a wrong password, or a user that does not exist.
	PasswordWrong
	// PasswordBackOff: refused unchecked, the user or source being in
	// back-off after failures.
	PasswordBackOff
	// PasswordBusy: refused unchecked, the password pool being full.
	PasswordBusy
	nPasswordResults
)

var passwordResultNames = [nPasswordResults]string{"ok", "wrong", "backoff", "busy"}

func (r PasswordResult) String() string { return passwordResultNames[r] }

func newPasswordCounters(m *Metrics) [nPasswordResults]prometheus.Counter {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "imgate_password_checks_total",
		Help: "Password checks (REST /token/* and password PROVISIONs) by result: ok, wrong (wrong password or no such user), backoff (refused unchecked: the user or source failed too often lately), busy (refused unchecked: the bcrypt pool and its queue were full).",
	}, []string{"result"})
	m.register(v)
	var out [nPasswordResults]prometheus.Counter
	for r := range nPasswordResults {
		out[r] = v.WithLabelValues(r.String())
	}
	return out
}

// PasswordChecked counts a password check that ended with the result.
func (m *Metrics) PasswordChecked(r PasswordResult) { m.passwords[r].Inc() }
