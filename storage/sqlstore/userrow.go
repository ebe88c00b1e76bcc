package sqlstore

import (
	"encoding/json"
	"fmt"

	"github.com/imgate/imgate"
)

// userRow is the SQL form of imgate.User: one column per field, settings
// and push profile flattened, tags and pinned ids as JSON arrays.
type userRow struct {
	ID               int64  `db:"id"`
	AppID            string `db:"app_id"`
	Username         string `db:"username"`
	PasswordHash     string `db:"password_hash"`
	NickName         string `db:"nick_name"`
	Avatar           string `db:"avatar"`
	Description      string `db:"description"`
	Email            string `db:"email"`
	Mobile           string `db:"mobile"`
	PublicInfo       string `db:"public_info"`
	PrivateInfo      string `db:"private_info"`
	Status           int    `db:"status"`
	AuthMode         int    `db:"auth_mode"`
	AuthQuestion     string `db:"auth_question"`
	AuthAnswer       string `db:"auth_answer"`
	AutoDownload     bool   `db:"auto_download"`
	GroupConfirm     bool   `db:"group_confirm"`
	NoPush           bool   `db:"no_push"`
	NoPushDetail     bool   `db:"no_push_detail"`
	NoPushStartHour  int    `db:"no_push_start_hour"`
	NoPushEndHour    int    `db:"no_push_end_hour"`
	NoSounds         bool   `db:"no_sounds"`
	Vibratory        bool   `db:"vibratory"`
	PushNickName     string `db:"push_nick_name"`
	SilenceStartTime int    `db:"silence_start_time"`
	SilenceEndTime   int    `db:"silence_end_time"`
	PushAlias        string `db:"push_alias"`
	PushBadge        int    `db:"push_badge"`
	PushTags         string `db:"push_tags"`
	Pinned           string `db:"pinned"`
	CreatedAt        int64  `db:"created_at"`
	UpdatedAt        int64  `db:"updated_at"`
}

// userColumns lists the users columns in userRow's order.
const userColumns = `id, app_id, username, password_hash, nick_name, avatar, description,
	email, mobile, public_info, private_info, status,
	auth_mode, auth_question, auth_answer, auto_download, group_confirm,
	no_push, no_push_detail, no_push_start_hour, no_push_end_hour, no_sounds,
	vibratory, push_nick_name, silence_start_time, silence_end_time,
	push_alias, push_badge, push_tags, pinned, created_at, updated_at`

// userValues is userColumns as named parameters, for inserts.
const userValues = `:id, :app_id, :username, :password_hash, :nick_name, :avatar, :description,
	:email, :mobile, :public_info, :private_info, :status,
	:auth_mode, :auth_question, :auth_answer, :auto_download, :group_confirm,
	:no_push, :no_push_detail, :no_push_start_hour, :no_push_end_hour, :no_sounds,
	:vibratory, :push_nick_name, :silence_start_time, :silence_end_time,
	:push_alias, :push_badge, :push_tags, :pinned, :created_at, :updated_at`

// userSet assigns every column but the key, for updates.
const userSet = `username = :username, password_hash = :password_hash,
	nick_name = :nick_name, avatar = :avatar, description = :description,
	email = :email, mobile = :mobile, public_info = :public_info,
	private_info = :private_info, status = :status,
	auth_mode = :auth_mode, auth_question = :auth_question, auth_answer = :auth_answer,
	auto_download = :auto_download, group_confirm = :group_confirm,
	no_push = :no_push, no_push_detail = :no_push_detail,
	no_push_start_hour = :no_push_start_hour, no_push_end_hour = :no_push_end_hour,
	no_sounds = :no_sounds, vibratory = :vibratory, push_nick_name = :push_nick_name,
	silence_start_time = :silence_start_time, silence_end_time = :silence_end_time,
	push_alias = :push_alias, push_badge = :push_badge, push_tags = :push_tags,
	pinned = :pinned, created_at = :created_at, updated_at = :updated_at`

// newUserRow converts u to its SQL form.
func newUserRow(u imgate.User) (userRow, error) {
	tags, err := jsonArray(u.Push.Tags)
	if err != nil {
		return userRow{}, fmt.Errorf("encode push tags: %w", err)
	}
	pinned, err := jsonArray(u.Pinned)
	if err != nil {
		return userRow{}, fmt.Errorf("encode pinned: %w", err)
	}
	st := u.Settings
	return userRow{
		ID: u.ID, AppID: u.AppID, Username: u.Username, PasswordHash: u.PasswordHash,
		NickName: u.NickName, Avatar: u.Avatar, Description: u.Description,
		Email: u.Email, Mobile: u.Mobile, PublicInfo: u.PublicInfo, PrivateInfo: u.PrivateInfo,
		Status:   int(u.Status),
		AuthMode: st.AuthMode, AuthQuestion: st.AuthQuestion, AuthAnswer: st.AuthAnswer,
		AutoDownload: st.AutoDownload, GroupConfirm: st.GroupConfirm,
		NoPush: st.NoPush, NoPushDetail: st.NoPushDetail,
		NoPushStartHour: st.NoPushStartHour, NoPushEndHour: st.NoPushEndHour,
		NoSounds: st.NoSounds, Vibratory: st.Vibratory, PushNickName: st.PushNickName,
		SilenceStartTime: st.SilenceStartTime, SilenceEndTime: st.SilenceEndTime,
		PushAlias: u.Push.Alias, PushBadge: u.Push.Badge, PushTags: tags, Pinned: pinned,
		CreatedAt: millis(u.CreatedAt), UpdatedAt: millis(u.UpdatedAt),
	}, nil
}

// user converts the row back to its domain form. Empty lists come back
// nil, whether they were stored nil or empty.
func (r userRow) user() (imgate.User, error) {
	var tags []string
	if err := json.Unmarshal([]byte(r.PushTags), &tags); err != nil {
		return imgate.User{}, fmt.Errorf("decode push tags of user %d: %w", r.ID, err)
	}
	var pinned []int64
	if err := json.Unmarshal([]byte(r.Pinned), &pinned); err != nil {
		return imgate.User{}, fmt.Errorf("decode pinned of user %d: %w", r.ID, err)
	}
	return imgate.User{
		ID: r.ID, AppID: r.AppID, Username: r.Username, PasswordHash: r.PasswordHash,
		NickName: r.NickName, Avatar: r.Avatar, Description: r.Description,
		Email: r.Email, Mobile: r.Mobile, PublicInfo: r.PublicInfo, PrivateInfo: r.PrivateInfo,
		Status: imgate.UserStatus(r.Status),
		Settings: imgate.UserSettings{
			AuthMode: r.AuthMode, AuthQuestion: r.AuthQuestion, AuthAnswer: r.AuthAnswer,
			AutoDownload: r.AutoDownload, GroupConfirm: r.GroupConfirm,
			NoPush: r.NoPush, NoPushDetail: r.NoPushDetail,
			NoPushStartHour: r.NoPushStartHour, NoPushEndHour: r.NoPushEndHour,
			NoSounds: r.NoSounds, Vibratory: r.Vibratory, PushNickName: r.PushNickName,
			SilenceStartTime: r.SilenceStartTime, SilenceEndTime: r.SilenceEndTime,
		},
		Push:      imgate.PushProfile{Alias: r.PushAlias, Badge: r.PushBadge, Tags: nilIfEmpty(tags)},
		Pinned:    nilIfEmpty(pinned),
		CreatedAt: fromMillis(r.CreatedAt),
		UpdatedAt: fromMillis(r.UpdatedAt),
	}, nil
}

// jsonArray encodes a list as a JSON array, "[]" for nil.
func jsonArray[T any](list []T) (string, error) {
	if list == nil {
		return "[]", nil
	}
	b, err := json.Marshal(list)
	return string(b), err
}

func nilIfEmpty[T any](list []T) []T {
	if len(list) == 0 {
		return nil
	}
	return list
}
