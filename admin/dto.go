package admin

import "github.com/imgate/imgate"

// The JSON shapes of MaxIM's Swagger definitions. Ids are JSON numbers and
// times milliseconds since the epoch.

// registered is the register answer, exactly the quick start's shape.
type registered struct {
	UserID          int64 `json:"user_id"`
	AutoDownload    bool  `json:"auto_download"`
	GroupConfirm    bool  `json:"group_confirm"`
	NoSounds        bool  `json:"no_sounds"`
	NoPush          bool  `json:"no_push"`
	Vibratory       bool  `json:"vibratory"`
	NoPushDetail    bool  `json:"no_push_detail"`
	AuthMode        int   `json:"auth_mode"`
	NoPushStartHour int   `json:"no_push_start_hour"`
	NoPushEndHour   int   `json:"no_push_end_hour"`
}

func registeredOf(u imgate.User) registered {
	st := u.Settings
	return registered{
		UserID: u.ID, AutoDownload: st.AutoDownload, GroupConfirm: st.GroupConfirm, NoSounds: st.NoSounds,
		NoPush: st.NoPush, Vibratory: st.Vibratory, NoPushDetail: st.NoPushDetail, AuthMode: st.AuthMode,
		NoPushStartHour: st.NoPushStartHour, NoPushEndHour: st.NoPushEndHour,
	}
}

// settings is UserSettings as GET /user/settings answers it.
type settings struct {
	registered
	ID               int64  `json:"id"`
	AuthQuestion     string `json:"auth_question"`
	AuthAnswer       string `json:"auth_answer"`
	PushNickName     string `json:"push_nick_name"`
	PushToken        string `json:"push_token"` // per device in imgate: see /user/device/list
	SilenceStartTime int    `json:"silence_start_time"`
	SilenceEndTime   int    `json:"silence_end_time"`
}

func settingsOf(u imgate.User) settings {
	st := u.Settings
	return settings{
		registered: registeredOf(u), ID: u.ID, AuthQuestion: st.AuthQuestion, AuthAnswer: st.AuthAnswer,
		PushNickName: st.PushNickName, SilenceStartTime: st.SilenceStartTime, SilenceEndTime: st.SilenceEndTime,
	}
}

// profile is UserProfileDto.
type profile struct {
	UserID      int64  `json:"user_id"`
	Username    string `json:"username"`
	NickName    string `json:"nick_name"`
	Avatar      string `json:"avatar"`
	Description string `json:"description"`
	Email       string `json:"email"`
	Mobile      string `json:"mobile"`
	PublicInfo  string `json:"public_info"`
	PrivateInfo string `json:"private_info"`
}

func profileOf(u imgate.User) profile {
	return profile{
		UserID: u.ID, Username: u.Username, NickName: u.NickName, Avatar: u.Avatar, Description: u.Description,
		Email: u.Email, Mobile: u.Mobile, PublicInfo: u.PublicInfo, PrivateInfo: u.PrivateInfo,
	}
}

// tokenDTO is TokenDto. imgate has no encrypted link and no file store,
// so encrypt_type is 0 and the file credentials are absent.
type tokenDTO struct {
	Token       string `json:"token"`
	UserID      int64  `json:"user_id"`
	Expire      int64  `json:"expire"`
	EncryptType int    `json:"encrypt_type"`
	PushToken   string `json:"push_token,omitempty"`
}

// device is DeviceDto.
type device struct {
	UserID    int64  `json:"user_id"`
	DeviceSN  uint32 `json:"device_sn"`
	Platform  int    `json:"platform"`
	UserAgent string `json:"user_agent"`
}

// userBasic is the /user/list item.
type userBasic struct {
	UserID   int64  `json:"user_id"`
	Username string `json:"username"`
	Status   int    `json:"status"`
}

// batchResult is one entry of the batch answers (BatchAvatarDto,
// BatchUserProfileDto, BatchRegisterUserDto).
type batchResult struct {
	UserID   int64  `json:"user_id"`
	Username string `json:"username,omitempty"`
	Success  bool   `json:"success"`
	Reason   string `json:"reason,omitempty"`
}

func batchOf(userID int64, err error) batchResult {
	return batchResult{UserID: userID, Success: err == nil, Reason: imgate.ErrorMessage(err)}
}
