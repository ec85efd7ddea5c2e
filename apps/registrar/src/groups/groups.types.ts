export interface GroupView {
  id: string;
  name: string;
  createdAt: string;
  /**
   * User ids of the members. Admins see every member; a member listing the groups they are
   * in sees only their own id here (memberCount still counts everyone).
   */
  memberIds: string[];
  memberCount: number;
}

/** What a membership change did (`changed` false: it was already so). */
export interface MemberChange {
  group: GroupView;
  changed: boolean;
}
