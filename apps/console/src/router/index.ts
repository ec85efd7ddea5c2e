import { createRouter, type RouterHistory, type RouteRecordRaw } from 'vue-router';
import { useAuthStore } from '../stores/auth.js';

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without a session. */
    public?: boolean;
    title?: string;
  }
}

export const routes: RouteRecordRaw[] = [
  {
    path: '/sign-in',
    name: 'sign-in',
    component: () => import('../views/SignInView.vue'),
    meta: { public: true, title: 'Sign in' },
  },
  {
    // The link an invitee opens: /invite#<token> (the fragment never reaches a server).
    path: '/invite',
    name: 'invite',
    component: () => import('../views/InviteView.vue'),
    meta: { public: true, title: 'Accept invitation' },
  },
  { path: '/', redirect: { name: 'fleet' } },
  {
    path: '/fleet',
    name: 'fleet',
    component: () => import('../views/FleetView.vue'),
    meta: { title: 'Fleet' },
  },
  {
    path: '/devices/:id',
    name: 'device',
    component: () => import('../views/DeviceView.vue'),
    props: true,
    meta: { title: 'Device' },
  },
  {
    path: '/devices/:id/session',
    name: 'device-session',
    component: () => import('../views/DeviceSessionView.vue'),
    props: true,
    meta: { title: 'Device session' },
  },
  {
    path: '/enroll',
    name: 'enroll',
    component: () => import('../views/EnrollView.vue'),
    meta: { title: 'Enroll' },
  },
  {
    path: '/access',
    name: 'access',
    component: () => import('../views/AccessView.vue'),
    meta: { title: 'Access' },
  },
  {
    path: '/audit',
    name: 'audit',
    component: () => import('../views/AuditView.vue'),
    meta: { title: 'Audit' },
  },
  {
    path: '/settings',
    name: 'settings',
    component: () => import('../views/SettingsView.vue'),
    meta: { title: 'Settings' },
  },
  {
    path: '/:pathMatch(.*)*',
    name: 'not-found',
    component: () => import('../views/NotFoundView.vue'),
    meta: { public: true, title: 'Not found' },
  },
];

/** Only same-app paths are accepted as a post-sign-in destination. */
export function safeRedirect(value: unknown): string {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//')
    ? value
    : '/fleet';
}

export function createAppRouter(history: RouterHistory) {
  const router = createRouter({ history, routes });
  router.beforeEach(async (to) => {
    const auth = useAuthStore();
    await auth.restore();
    const signedIn = auth.status === 'signed-in';
    if (to.name === 'sign-in' && signedIn) return safeRedirect(to.query['redirect']);
    if (!to.meta.public && !signedIn) {
      return { name: 'sign-in', query: to.fullPath === '/' ? {} : { redirect: to.fullPath } };
    }
    return true;
  });
  return router;
}
