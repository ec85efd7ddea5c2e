import type { IconName } from '../ui/PfIcon.vue';

export interface NavItem {
  to: string;
  label: string;
  icon: IconName;
}

export const NAV_ITEMS: readonly NavItem[] = [
  { to: '/fleet', label: 'Fleet', icon: 'fleet' },
  { to: '/enroll', label: 'Enroll', icon: 'enroll' },
  { to: '/access', label: 'Access', icon: 'access' },
  { to: '/audit', label: 'Audit', icon: 'audit' },
  { to: '/settings', label: 'Settings', icon: 'settings' },
];
