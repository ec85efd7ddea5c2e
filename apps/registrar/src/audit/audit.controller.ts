import { Controller, Get, Query } from '@nestjs/common';
import { ApiCookieAuth, ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, MinRole } from '../common/auth.decorators.js';
import type { Principal } from '../auth/auth.types.js';
import { AuditQueryDto } from './audit.dto.js';
import { AuditService } from './audit.service.js';

@ApiTags('audit')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @MinRole('admin')
  @ApiOperation({ summary: 'Query the audit log (newest first, keyset-paginated)' })
  query(@CurrentPrincipal() p: Principal, @Query() q: AuditQueryDto) {
    return this.audit.query({
      orgId: p.orgId,
      action: q.action,
      actorId: q.actorId,
      targetId: q.targetId,
      since: q.since,
      until: q.until,
      before: q.cursor === undefined ? undefined : BigInt(q.cursor),
      limit: q.limit ?? 50,
    });
  }
}
