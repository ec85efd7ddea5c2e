import type { IconName } from '../ui/PfIcon.vue';

export interface NavItem {
  to: string;
  label: string;
  icon: IconName;
  /** Shown to owners and admins only (the registrar refuses members there). */
  adminOnly?: boolean;
}

export const NAV_ITEMS: readonly NavItem[] = [
  { to: '/fleet', label: 'Fleet', icon: 'fleet' },
  { to: '/enroll', label: 'Enroll', icon: 'enroll', adminOnly: true },
  { to: '/access', label: 'Access', icon: 'access' },
  { to: '/audit', label: 'Audit', icon: 'audit', adminOnly: true },
  { to: '/settings', label: 'Settings', icon: 'settings' },
];
