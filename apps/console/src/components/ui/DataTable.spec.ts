import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import DataTable from './DataTable.vue';
import StatusDot from './StatusDot.vue';

const rows = [
  { id: 'a', name: 'gate', status: 'online' as const },
  { id: 'b', name: 'dock', status: 'offline' as const },
];
const columns = [
  { key: 'name', label: 'Name', sortKey: 'name', primary: true },
  { key: 'status', label: 'Status', sortKey: 'status' },
  { key: 'id', label: 'Id' },
];

describe('DataTable', () => {
  it('renders cells, labels them for the phone card layout and reports sorting', async () => {
    const wrapper = mount(DataTable, {
      props: {
        columns,
        rows,
        rowKey: (r: unknown) => (r as { id: string }).id,
        caption: 'Devices',
        sortBy: 'name',
        sortDir: 'asc',
      },
      slots: {
        'cell-status': `<template #cell-status="{ row }"><b>{{ row.status }}</b></template>`,
      },
    });
    expect(wrapper.find('caption').text()).toBe('Devices');
    const cells = wrapper.findAll('tbody tr')[1]?.findAll('td') ?? [];
    expect(cells.map((c) => c.text())).toEqual(['dock', 'offline', 'b']);
    expect(cells.map((c) => c.attributes('data-label'))).toEqual([undefined, 'Status', 'Id']);
    expect(cells[1]?.find('b').exists()).toBe(true);
    const headers = wrapper.findAll('th');
    expect(headers.map((h) => h.attributes('aria-sort'))).toEqual(['ascending', 'none', undefined]);
    await headers[1]?.find('button').trigger('click');
    expect(wrapper.emitted('sort')).toEqual([['status']]);
  });
});

describe('StatusDot', () => {
  it('states the status in words, not colour alone', () => {
    for (const [status, text] of [
      ['online', 'Online'],
      ['offline', 'Offline'],
      ['revoked', 'Revoked'],
    ] as const) {
      expect(mount(StatusDot, { props: { status } }).text()).toBe(text);
    }
  });
});
