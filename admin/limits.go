package admin

import "unicode/utf8"

// Limits on single fields, in characters. Lists are bounded by
// Config.MaxListLen and bodies by Config.MaxBodyBytes. README.md lists them
// all; keep the two in step.
const (
	maxPasswordBytes = 72 // bcrypt reads no further
	maxNameLen       = 64 // nick names, push nick names, aliases, tags
	maxURLLen        = 1024
	maxTextLen       = 1024     // descriptions, auth questions and answers
	maxInfoBytes     = 16 << 10 // public and private info, in bytes
	minMobileDigits  = 5
	maxMobileDigits  = 20
	maxPinned        = 100 // pinned conversations per user
	maxTags          = 100 // push tags per user
)

func checkLen(field, v string, limit int) error {
	if utf8.RuneCountInString(v) > limit {
		return badParam("%s is longer than %d characters", field, limit)
	}
	return nil
}

func checkBytes(field, v string, limit int) error {
	if len(v) > limit {
		return badParam("%s is longer than %d bytes", field, limit)
	}
	return nil
}

func checkPassword(field, pw string) error {
	if pw == "" {
		return badParam("%s is required", field)
	}
	if len(pw) > maxPasswordBytes {
		return badParam("%s is longer than %d bytes", field, maxPasswordBytes)
	}
	return nil
}

func (s *Server) checkList(field string, n int) error {
	if n == 0 {
		return badParam("%s is empty", field)
	}
	if n > s.cfg.MaxListLen {
		return badParam("%s has %d entries; the limit is %d", field, n, s.cfg.MaxListLen)
	}
	return nil
}
