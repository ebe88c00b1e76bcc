package admin

import (
	"net/http"

	"github.com/imgate/imgate"
)

const (
	get  = http.MethodGet
	post = http.MethodPost
	put  = http.MethodPut
	del  = http.MethodDelete
)

// routes registers every path with the methods MaxIM's Swagger lists.
func (s *Server) routes() {
	s.tokenRoutes()
	s.userRoutes()
	s.userSetterRoutes()
	s.deviceRoutes()
	s.rosterRoutes()
	s.groupRoutes()
	s.groupExtraRoutes()
	s.messageRoutes()
	s.discoveryRoutes()
	s.fileRoutes()
}

func (s *Server) tokenRoutes() {
	s.handle("/token/user", public, s.tokenByName, post)
	s.handle("/token/id", public, s.tokenByID, post)
	s.handle("/token/login", public, s.tokenByLogin, post)
}

func (s *Server) userRoutes() {
	s.handle("/user/register/v2", public, s.register, post)
	s.handle("/user/register/push", public, s.registerPush, post)
	s.handle("/user/register/batch", adminOnly, s.registerBatch, post)
	s.handle("/user/list", adminOnly, s.listUsers, get)
	s.handle("/user/disable", adminOnly, s.setStatus(imgate.UserDisabled), put)
	s.handle("/user/enable", adminOnly, s.setStatus(imgate.UserNormal), put)
	s.handle("/user/avatar/batch", adminOnly, s.setAvatars, post, put)
	s.handle("/user/profile/batch", adminOnly, s.setProfiles, post, put)
	s.handle("/user/change_password_admin", adminOnly, s.changePasswordAdmin, post)
	s.handle("/user/change_password", asUser, s.changePassword, post)
	s.handle("/user/delete", asUser, s.deleteUser, post, del)
	s.handle("/user/settings", asUser, s.getSettings, get)
	s.handle("/user/settings", asUser, s.setSettings, post, put)
	s.handle("/user/profile", asUser, s.getProfile, get)
	s.handle("/user/profile", asUser, s.setProfile, post, put)
	s.handle("/user/avatar", asUser, s.setAvatar, post, put)
	s.handle("/user/public", asUser, s.setInfo(false), post, put)
	s.handle("/user/private", asUser, s.setInfo(true), post, put)
	s.handle("/user/conversation/pin", asUser, s.pin(true), post, put)
	s.handle("/user/conversation/unpin", asUser, s.pin(false), post, put)
	s.handle("/user/conversation/pin_list", asUser, s.pinList, get)
}

func (s *Server) userSetterRoutes() {
	s.handle("/user/authmode", asUser, s.setAuthMode, post, put)
	s.handle("/user/download", asUser, s.boolSetter(func(st *imgate.UserSettings, v bool) { st.AutoDownload = v }), post, put)
	s.handle("/user/sounds", asUser, s.boolSetter(func(st *imgate.UserSettings, v bool) { st.NoSounds = v }), post, put)
	s.handle("/user/vibratory", asUser, s.boolSetter(func(st *imgate.UserSettings, v bool) { st.Vibratory = v }), post, put)
	s.handle("/user/push", asUser, s.boolSetter(func(st *imgate.UserSettings, v bool) { st.NoPush = v }), post, put)
	s.handle("/user/push/detail", asUser, s.boolSetter(func(st *imgate.UserSettings, v bool) { st.NoPushDetail = v }), post, put)
	s.handle("/user/push/limit", asUser, s.setPushLimit, post, put)
	s.handle("/user/push/nickname", asUser, s.stringSetter("value", maxNameLen, nil,
		func(u *imgate.User, v string) { u.Settings.PushNickName = v }), post, put)
	s.handle("/user/nickname", asUser, s.stringSetter("nick_name", maxNameLen, nil,
		func(u *imgate.User, v string) { u.NickName = v }), post, put)
	s.handle("/user/mobile", asUser, s.stringSetter("mobile", maxMobileDigits+1, checkMobile,
		func(u *imgate.User, v string) { u.Mobile = v }), post, put)
	s.handle("/user/username", asUser, s.stringSetter("username", maxNameLen, imgate.ValidUsername,
		func(u *imgate.User, v string) { u.Username = v }), post, put)
	s.handle("/user/push/alias", asUser, s.setPushAlias, post)
	s.handle("/user/push/badge", asUser, s.setPushBadge, post)
	s.handle("/user/push/tag", asUser, s.getPushTags, get)
	s.handle("/user/push/tag", asUser, s.editPushTags(true), post)
	s.handle("/user/push/tag", asUser, s.editPushTags(false), del)
	s.handle("/user/push/tag/all", asUser, s.clearPushTags, del)
}

func (s *Server) deviceRoutes() {
	s.handle("/user/device/list", asUser, s.listDevices, get)
	s.handle("/user/device/remove", asUser, s.removeDevice, post, del)
	s.handle("/user/kick", asUser, s.kick, post, put)
	s.handle("/user/online_status", asUser, s.onlineStatus, get)
	s.handle("/user/token/bind", asUser, s.bindPushToken, post, put)
	s.handle("/user/token/unbind", asUser, s.unbindPushToken, post, del)
}
